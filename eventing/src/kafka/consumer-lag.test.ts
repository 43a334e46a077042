import { createLogger } from '@parley/runtime';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsumerLagMonitor, partitionLag } from './consumer-lag';
import type { OffsetsAdmin } from './kafka';

const log = createLogger('consumer-lag-test', 'silent');

/** What the fake Kafka holds: per topic, per partition: low, high and the group's commit. */
type Offsets = Record<string, Array<{ low: number; high: number; committed: number }>>;

/** An admin over `state` (mutable between polls); `fail` makes the next reads throw. */
function fakeKafka(state: { offsets: Offsets; fail?: Error }) {
  const made: Array<OffsetsAdmin & { disconnected: boolean }> = [];
  const factory = (): OffsetsAdmin => {
    const admin = {
      disconnected: false,
      async connect() {},
      async disconnect() {
        admin.disconnected = true;
      },
      async fetchOffsets({ topics }: { groupId: string; topics: string[] }) {
        if (state.fail) throw state.fail;
        return topics.map((topic) => ({
          topic,
          partitions: (state.offsets[topic] ?? []).map((p, partition) => ({
            partition,
            offset: String(p.committed),
          })),
        }));
      },
      async fetchTopicOffsets(topic: string) {
        if (state.fail) throw state.fail;
        const parts = state.offsets[topic];
        if (!parts) throw new Error(`no topic ${topic}`);
        return parts.map((p, partition) => ({
          partition,
          low: String(p.low),
          high: String(p.high),
        }));
      },
    };
    made.push(admin);
    return admin;
  };
  return { factory, made };
}

/** A gauge's values as `topic/partition → value` for one group (the lag by default). */
async function lagOf(
  registry: Registry,
  group: string,
  name = 'parley_kafka_consumer_lag',
): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get();
  const out: Record<string, number> = {};
  for (const v of metric?.values ?? [])
    if (v.labels.group === group) out[`${v.labels.topic}/${v.labels.partition}`] = v.value;
  return out;
}

async function pollErrors(registry: Registry, group: string): Promise<number | undefined> {
  const metric = await registry
    .getSingleMetric('parley_kafka_consumer_lag_poll_errors_total')
    ?.get();
  return metric?.values.find((v) => v.labels.group === group)?.value;
}

const monitors: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.stop();
  vi.useRealTimers();
});

function monitor(
  opts: Omit<Parameters<typeof createConsumerLagMonitor>[0], 'log'> & { log?: typeof log },
) {
  const m = createConsumerLagMonitor({ log, ...opts });
  monitors.push(m);
  return m;
}

describe('partitionLag', () => {
  it('is end minus the committed offset, or end minus start when the group never committed', () => {
    expect(partitionLag({ committed: '7', low: '0', high: '10' })).toBe(3);
    expect(partitionLag({ committed: '10', low: '0', high: '10' })).toBe(0);
    // Nothing committed: every record still retained is unread, the deleted ones are not counted.
    expect(partitionLag({ committed: '-1', low: '4', high: '10' })).toBe(6);
    expect(partitionLag({ committed: '-1', low: '0', high: '0' })).toBe(0);
    // A commit past the end (the topic was recreated): no negative lag.
    expect(partitionLag({ committed: '12', low: '0', high: '10' })).toBe(0);
  });

  it('keeps offsets past 2^53 exact until the subtraction', () => {
    const big = 2n ** 60n;
    expect(partitionLag({ committed: String(big), low: '0', high: String(big + 5n) })).toBe(5);
  });
});

describe('consumer lag monitor', () => {
  it('sets one gauge per partition of each topic, labelled by group, topic and partition', async () => {
    const kafka = fakeKafka({
      offsets: {
        a: [
          { low: 0, high: 10, committed: 4 },
          { low: 2, high: 9, committed: -1 },
        ],
        b: [{ low: 0, high: 3, committed: 3 }],
      },
    });
    const registry = new Registry();
    const m = monitor({ admin: kafka.factory, group: 'g1', topics: ['a', 'b'], registry });
    expect(await m.poll()).toBe(true);
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 6, 'a/1': 7, 'b/0': 0 });
    // The committed offsets beside it (-1: never committed), whose movement tells a stall.
    expect(await lagOf(registry, 'g1', 'parley_kafka_consumer_committed_offset')).toEqual({
      'a/0': 4,
      'a/1': -1,
      'b/0': 3,
    });
    expect(await pollErrors(registry, 'g1')).toBe(0);
  });

  it('replaces the set each poll: new values, and a partition no longer reported is removed', async () => {
    const state = {
      offsets: {
        a: [
          { low: 0, high: 10, committed: 4 },
          { low: 0, high: 5, committed: 5 },
        ],
        gone: [{ low: 0, high: 2, committed: -1 }],
      } as Offsets,
    };
    const kafka = fakeKafka(state);
    const registry = new Registry();
    const m = monitor({ admin: kafka.factory, group: 'g1', topics: ['a', 'gone'], registry });
    await m.poll();
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 6, 'a/1': 0, 'gone/0': 2 });

    state.offsets = {
      a: [{ low: 0, high: 12, committed: 11 }],
      gone: [],
    };
    await m.poll();
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 1 });
    expect(await lagOf(registry, 'g1', 'parley_kafka_consumer_committed_offset')).toEqual({
      'a/0': 11,
    });
  });

  it("leaves another group's series on a shared registry alone", async () => {
    const registry = new Registry();
    const one = fakeKafka({ offsets: { a: [{ low: 0, high: 5, committed: 1 }] } });
    const two = fakeKafka({ offsets: { a: [{ low: 0, high: 5, committed: 3 }], b: [] } });
    const m1 = monitor({ admin: one.factory, group: 'g1', topics: ['a'], registry });
    const m2 = monitor({ admin: two.factory, group: 'g2', topics: ['a', 'b'], registry });
    await m1.poll();
    await m2.poll();
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 4 });
    expect(await lagOf(registry, 'g2')).toEqual({ 'a/0': 2 });
  });

  it('a failed poll counts an error, keeps the last values, drops the admin and never throws', async () => {
    const state: { offsets: Offsets; fail?: Error } = {
      offsets: { a: [{ low: 0, high: 8, committed: 2 }] },
    };
    const kafka = fakeKafka(state);
    const registry = new Registry();
    const m = monitor({ admin: kafka.factory, group: 'g1', topics: ['a'], registry });
    await m.poll();

    state.fail = new Error('broker down');
    expect(await m.poll()).toBe(false);
    expect(await m.poll()).toBe(false);
    expect(await pollErrors(registry, 'g1')).toBe(2);
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 6 });
    // Each failure discarded its admin client; the next poll makes a fresh one.
    expect(kafka.made.length).toBe(2);
    expect(kafka.made.every((a) => a.disconnected)).toBe(true);

    state.fail = undefined;
    state.offsets.a = [{ low: 0, high: 9, committed: 9 }];
    expect(await m.poll()).toBe(true);
    expect(kafka.made.length).toBe(3);
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 0 });
    expect(await pollErrors(registry, 'g1')).toBe(2);
  });

  it('a topic the group does not read yet is a failed poll, not an exception', async () => {
    const registry = new Registry();
    const m = monitor({
      admin: fakeKafka({ offsets: {} }).factory,
      group: 'g1',
      topics: ['missing'],
      registry,
    });
    expect(await m.poll()).toBe(false);
    expect(await pollErrors(registry, 'g1')).toBe(1);
  });

  it('warns on the first failure, then at most once per warnEveryMs, counting the ones between', async () => {
    const warn = vi.fn();
    const info = vi.fn();
    const quiet = { ...log, warn, info } as unknown as typeof log;
    let clock = 0;
    const state: { offsets: Offsets; fail?: Error } = {
      offsets: { a: [{ low: 0, high: 1, committed: 0 }] },
      fail: new Error('broker down'),
    };
    const m = monitor({
      admin: fakeKafka(state).factory,
      group: 'g1',
      topics: ['a'],
      registry: new Registry(),
      log: quiet,
      warnEveryMs: 60_000,
      now: () => clock,
    });
    await m.poll();
    expect(warn).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 5; i++) {
      clock += 5_000;
      await m.poll();
    }
    expect(warn).toHaveBeenCalledTimes(1);
    clock = 60_000;
    await m.poll();
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1]?.[0]).toMatchObject({ group: 'g1', failedPolls: 6 });

    state.fail = undefined;
    await m.poll();
    expect(info).toHaveBeenCalledWith({ group: 'g1' }, 'consumer lag poll recovered');
  });

  it('polls on its timer once started, and stop() ends it and disconnects', async () => {
    vi.useFakeTimers();
    const state = { offsets: { a: [{ low: 0, high: 4, committed: 0 }] } as Offsets };
    const kafka = fakeKafka(state);
    const registry = new Registry();
    const m = monitor({
      admin: kafka.factory,
      group: 'g1',
      topics: ['a'],
      registry,
      intervalMs: 1_000,
    });
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 4 });

    state.offsets.a = [{ low: 0, high: 4, committed: 3 }];
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 1 });

    await m.stop();
    expect(kafka.made.every((a) => a.disconnected)).toBe(true);
    state.offsets.a = [{ low: 0, high: 4, committed: 4 }];
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await lagOf(registry, 'g1')).toEqual({ 'a/0': 1 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
