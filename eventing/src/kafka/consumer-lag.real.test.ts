import { createLogger } from '@parley/runtime';
import { infraEnv, runId } from '@parley/tests/support/infra';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../testing';
import { type ConsumerLagMonitor, createConsumerLagMonitor } from './consumer-lag';
import {
  committedOffsets,
  createKafka,
  createOffsetsAdmin,
  createRecordConsumer,
  createRecordProducer,
  deleteTopics,
  ensureTopics,
  type RecordConsumer,
  topicEndOffsets,
} from './kafka';

const { KAFKA_BROKERS } = infraEnv();
const log = createLogger('consumer-lag-real-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'consumer-lag-real-test', log });
const producer = createRecordProducer(kafka);

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
const created: string[] = [];
afterAll(async () => {
  await producer.close();
  await deleteTopics(kafka, created);
});

function monitor(group: string, topics: string[], registry: Registry): ConsumerLagMonitor {
  const m = createConsumerLagMonitor({
    admin: () => createOffsetsAdmin(kafka),
    group,
    topics,
    registry,
    log,
  });
  cleanups.push(() => m.stop());
  return m;
}

/** The gauge of `group` as partition → lag. */
async function lagByPartition(registry: Registry, group: string): Promise<Map<string, number>> {
  const metric = await registry.getSingleMetric('parley_kafka_consumer_lag')?.get();
  return new Map(
    (metric?.values ?? [])
      .filter((v) => v.labels.group === group)
      .map((v) => [String(v.labels.partition), v.value]),
  );
}

const sum = (m: Map<unknown, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('consumer lag (real Kafka)', () => {
  it('counts every produced record while the group reads nothing, and drops as it commits', async () => {
    const topic = `t.${runId()}.lag`;
    created.push(...(await ensureTopics(kafka, [topic], 2)));
    const group = `g-${runId()}`;
    const n = 30;
    // Distinct keys spread the records over both partitions.
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        producer.send(topic, { key: `k${i}`, value: `v${i}`, headers: {} }),
      ),
    );
    const ends = await topicEndOffsets(kafka, topic);
    expect(ends.size).toBe(2);

    const registry = new Registry();
    const m = monitor(group, [topic], registry);
    expect(await m.poll()).toBe(true);
    // No member, no commit: everything on each partition is lag.
    const before = await lagByPartition(registry, group);
    expect(before).toEqual(new Map([...ends].map(([p, end]) => [String(p), Number(end)])));
    expect(sum(before)).toBe(n);

    // A member that commits the first `keep` records of each partition and leaves the rest.
    const keep = 4;
    const consumer: RecordConsumer = createRecordConsumer(kafka, {
      group,
      topics: [topic],
      handle: async (r) => (BigInt(r.offset) < BigInt(keep) ? 'commit' : 'leave'),
    });
    cleanups.push(() => consumer.stop());
    await consumer.start();
    const expected = new Map(
      [...ends].map(([p, end]) => [p, BigInt(Math.min(keep, Number(end)))] as const),
    );
    await waitFor(
      async () => {
        const committed = await committedOffsets(kafka, group, topic);
        return [...expected].every(([p, at]) => (committed.get(p) ?? -1n) === at || at === 0n);
      },
      30_000,
      'the first records of each partition committed',
    );

    expect(await m.poll()).toBe(true);
    const after = await lagByPartition(registry, group);
    expect(after).toEqual(
      new Map([...ends].map(([p, end]) => [String(p), Number(end) - Number(expected.get(p))])),
    );
    expect(sum(after)).toBe(n - sum(new Map([...expected].map(([p, c]) => [p, Number(c)]))));
    expect(sum(after)).toBeLessThan(n);
  });

  it('a topic that does not exist is a counted poll error, and the lag stays unset', async () => {
    const group = `g-${runId()}`;
    const registry = new Registry();
    const m = monitor(group, [`t.${runId()}.missing`], registry);
    expect(await m.poll()).toBe(false);
    const errors = await registry
      .getSingleMetric('parley_kafka_consumer_lag_poll_errors_total')
      ?.get();
    expect(errors?.values.find((v) => v.labels.group === group)?.value).toBe(1);
    expect((await lagByPartition(registry, group)).size).toBe(0);
  });
});
