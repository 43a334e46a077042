import { type ChildProcess, spawn } from 'node:child_process';
import { createLogger } from '@parley/runtime';
import { infraEnv, REPO_ROOT, runId } from '@parley/tests/support/infra';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deadLetterTopic } from '../catalog';
import { type AnyParleyEvent, toKafkaRecord } from '../cloudevent';
import { deferred, messageSend, seqOf, waitFor } from '../testing';
import {
  committedOffsets,
  createKafka,
  createRecordProducer,
  deleteTopics,
  ensureTopics,
  topicEndOffsets,
} from './kafka';
import { createKafkaSource, type KafkaSource } from './kafka-source';
import { readRecords } from './kafka-testing';
import { type SinkServer, startSinkServer } from './sink-server.testing';

const { KAFKA_BROKERS } = infraEnv();
const log = createLogger('kafka-source-real-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'kafka-source-real-test', log });
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

async function freshTopic(partitions: number): Promise<string> {
  const topic = `t.${runId()}.source`;
  created.push(...(await ensureTopics(kafka, [topic], partitions)));
  return topic;
}

async function produce(topic: string, events: AnyParleyEvent[]): Promise<void> {
  await Promise.all(events.map((e) => producer.send(topic, toKafkaRecord(e))));
}

async function sinkServer(respond?: Parameters<typeof startSinkServer>[0]): Promise<SinkServer> {
  const server = await startSinkServer(respond);
  cleanups.push(() => server.close());
  return server;
}

async function startSource(
  topic: string,
  sinkUrl: string,
  over: Partial<Parameters<typeof createKafkaSource>[0]> = {},
): Promise<KafkaSource> {
  const source = createKafkaSource({
    kafka,
    topics: [topic],
    group: `g-${runId()}`,
    sinkUrl,
    log,
    retry: 2,
    backoffDelayMs: 50,
    backoffMaxMs: 200,
    createTopics: false,
    ...over,
  });
  cleanups.push(() => source.stop());
  await source.start();
  return source;
}

/** True once the group committed everything the topic holds. */
async function allCommitted(group: string, topic: string): Promise<boolean> {
  const [ends, committed] = await Promise.all([
    topicEndOffsets(kafka, topic),
    committedOffsets(kafka, group, topic),
  ]);
  return [...ends].every(([p, end]) => end === '0' || committed.get(p) === BigInt(end));
}

const header = (h: Record<string, Buffer | undefined>, name: string) => h[name]?.toString();

describe('KafkaSource stand-in (real Kafka)', () => {
  it('delivers every record as a CloudEvent, each key in order, and commits what it delivered', async () => {
    const topic = await freshTopic(3);
    const keys = Array.from({ length: 8 }, (_, i) => `r_${runId()}_${i}`);
    const events = Array.from({ length: 160 }, (_, n) =>
      messageSend(keys[n % keys.length] as string, n),
    );
    await produce(topic, events);
    const sink = await sinkServer(async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      return 202;
    });
    const group = `g-${runId()}`;
    await startSource(topic, sink.url, { group });
    await waitFor(() => sink.received.length >= events.length, 25_000, 'all records delivered');
    for (const key of keys) {
      const got = sink.received
        .filter((r) => r.event.partitionkey === key)
        .map((r) => seqOf(r.event));
      const sent = events.filter((e) => e.partitionkey === key).map((e) => seqOf(e));
      expect(got).toEqual(sent);
    }
    expect(sink.received[0]?.event).toEqual(
      events.find((e) => e.id === sink.received[0]?.event.id),
    );
    await waitFor(() => allCommitted(group, topic), 10_000, 'offsets committed');
  });

  it('retries a 503 with backoff, then delivers it before the next record of its partition', async () => {
    const topic = await freshTopic(1);
    const [first, second] = [messageSend('r_retry', 0), messageSend('r_retry', 1)];
    const sink = await sinkServer((e, attempt) => (seqOf(e) === 0 && attempt < 3 ? 503 : 202));
    const registry = new Registry();
    await produce(topic, [first, second]);
    await startSource(topic, sink.url, { registry, retry: 5 });
    await waitFor(
      () => sink.received.some((r) => r.event.id === second.id),
      20_000,
      'second delivered',
    );
    expect(sink.received.map((r) => [seqOf(r.event), r.attempt])).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 1],
    ]);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/parley_source_retried_total\{[^}]*\} 2/);
    expect(metrics).toMatch(/parley_source_delivered_total\{[^}]*\} 2/);
  });

  it('dead-letters a refused record, a record still failing after its retries and an invalid one; later records still get through', async () => {
    const topic = await freshTopic(1);
    const key = `r_${runId()}`;
    const [ok0, refused, failing, ok3] = [0, 1, 2, 3].map((n) =>
      messageSend(key, n),
    ) as AnyParleyEvent[];
    const sink = await sinkServer((e) => ({ 1: 400, 2: 500 })[seqOf(e)] ?? 202);
    await produce(topic, [ok0, refused, failing] as AnyParleyEvent[]);
    const invalid = {
      key,
      value: '{not json',
      headers: { ce_id: 'bad-1', ce_type: 'parley.message.send' },
    };
    await producer.send(topic, invalid);
    await produce(topic, [ok3 as AnyParleyEvent]);

    const group = `g-${runId()}`;
    await startSource(topic, sink.url, { group, retry: 2 });
    await waitFor(
      () => sink.received.some((r) => r.event.id === ok3?.id),
      20_000,
      'last record delivered',
    );
    expect(sink.received.map((r) => seqOf(r.event))).toEqual([0, 1, 2, 2, 2, 3]);

    const dlq = await readRecords(kafka, {
      topic: deadLetterTopic(topic),
      until: (rs) => rs.length >= 3,
    });
    expect(dlq.map((r) => header(r.headers, 'ce_id'))).toEqual([refused?.id, failing?.id, 'bad-1']);
    expect(dlq.map((r) => header(r.headers, 'ce_knativeerrorcode'))).toEqual(['400', '500', '400']);
    for (const r of dlq) {
      expect(r.key?.toString()).toBe(key);
      expect(header(r.headers, 'ce_knativeerrordest')).toBe(sink.url);
    }
    const original = toKafkaRecord(refused as AnyParleyEvent);
    expect(dlq[0]?.value?.toString()).toBe(original.value);
    for (const [name, value] of Object.entries(original.headers))
      expect(header(dlq[0]?.headers ?? {}, name)).toBe(value);
    const data = Buffer.from(
      header(dlq[0]?.headers ?? {}, 'ce_knativeerrordata') ?? '',
      'base64',
    ).toString();
    expect(data).toContain('status 400');
    expect(dlq[2]?.value?.toString()).toBe('{not json');
    await waitFor(() => allCommitted(group, topic), 10_000, 'offsets committed');
  });

  it('stop() finishes and commits the in-flight delivery, but leaves a record waiting for a retry to the next member', async () => {
    const topic = await freshTopic(1);
    const key = `r_${runId()}`;
    const events = [0, 1].map((n) => messageSend(key, n));
    const held = deferred<number>();
    let failRecord1 = true;
    const sink = await sinkServer((e) => {
      if (seqOf(e) === 0) return held.promise;
      return failRecord1 ? 503 : 202;
    });
    await produce(topic, events);
    const group = `g-${runId()}`;
    const long = { group, retry: 5, backoffDelayMs: 60_000, backoffMaxMs: 60_000 };

    const first = await startSource(topic, sink.url, long);
    await waitFor(() => sink.received.length === 1, 20_000, 'record 0 in flight');
    const stopping = first.stop();
    held.resolve(202);
    await stopping;
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(1n);

    const second = await startSource(topic, sink.url, long);
    await waitFor(() => sink.received.some((r) => seqOf(r.event) === 1), 20_000, 'record 1 tried');
    await second.stop(); // does not wait the minute-long backoff
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(1n);

    failRecord1 = false;
    await startSource(topic, sink.url, long);
    await waitFor(
      () => sink.received.filter((r) => seqOf(r.event) === 1).length === 2,
      20_000,
      'record 1 redelivered',
    );
    await waitFor(() => allCommitted(group, topic), 10_000, 'offsets committed');
  });

  it('commits only after a 2xx: a source killed mid-way loses no record when restarted', async () => {
    const topic = await freshTopic(1);
    const key = `r_${runId()}`;
    const events = Array.from({ length: 30 }, (_, n) => messageSend(key, n));
    const held = deferred<number>();
    cleanups.push(async () => held.resolve(503));
    const sink = await sinkServer((e, attempt) =>
      seqOf(e) === 10 && attempt === 1 ? held.promise : 202,
    );
    await produce(topic, events);
    const group = `g-${runId()}`;

    const first = spawnSource(topic, group, sink.url);
    await waitFor(
      () => sink.received.some((r) => seqOf(r.event) === 10),
      20_000,
      'record 10 in flight',
    );
    // Records 0..9 got their 2xx and are committed; record 10 has no answer, so it is not.
    await waitFor(
      async () => (await committedOffsets(kafka, group, topic)).get(0) === 10n,
      10_000,
      'offset 10 committed',
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const beforeRestart = sink.received.length;

    const second = spawnSource(topic, group, sink.url);
    await waitFor(
      () => new Set(sink.received.map((r) => r.event.id)).size === events.length,
      25_000,
      'every record delivered',
    );
    const afterRestart = sink.received.slice(beforeRestart).map((r) => seqOf(r.event));
    expect(afterRestart).toEqual(Array.from({ length: 20 }, (_, i) => i + 10));
    await waitFor(() => allCommitted(group, topic), 10_000, 'offsets committed');

    second.kill('SIGTERM');
    const code = await new Promise((r) => second.once('exit', r));
    expect(code).toBe(0);
  });

  it("unordered: posts a partition's records several at once, at most max.poll.records, and commits only below the lowest unanswered", async () => {
    const topic = await freshTopic(1);
    const key = `r_${runId()}`;
    const events = Array.from({ length: 40 }, (_, n) => messageSend(key, n));
    const held = deferred<number>();
    cleanups.push(async () => held.resolve(503));
    let inFlight = 0;
    let mostInFlight = 0;
    const answered = new Set<number>();
    const sink = await sinkServer(async (e) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        if (seqOf(e) === 3) return await held.promise;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
        return 202;
      } finally {
        inFlight--;
        answered.add(seqOf(e));
      }
    });
    await produce(topic, events);
    const group = `g-${runId()}`;
    await startSource(topic, sink.url, { group, ordering: 'unordered', maxPollRecords: 5 });
    await waitFor(() => answered.size === events.length - 1, 20_000, 'all but record 3 answered');
    expect(answered.has(3)).toBe(false);
    expect(mostInFlight).toBeGreaterThan(1);
    expect(mostInFlight).toBeLessThanOrEqual(5);
    // 0..2 answered, 3 not: the group may resume at 3 but never past it.
    await waitFor(
      async () => (await committedOffsets(kafka, group, topic)).get(0) === 3n,
      10_000,
      'offset 3 committed',
    );
    await new Promise((r) => setTimeout(r, 500)); // several commit intervals
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(3n);
    held.resolve(202);
    await waitFor(() => allCommitted(group, topic), 10_000, 'offsets committed');
  });

  it('unordered: a record left unanswered at stop() holds the commit back, and the next member redelivers from it', async () => {
    const topic = await freshTopic(1);
    const key = `r_${runId()}`;
    const events = Array.from({ length: 20 }, (_, n) => messageSend(key, n));
    let refuse3 = true;
    const sink = await sinkServer((e) => (seqOf(e) === 3 && refuse3 ? 503 : 202));
    await produce(topic, events);
    const group = `g-${runId()}`;
    const unordered = {
      group,
      ordering: 'unordered' as const,
      retry: 5,
      backoffDelayMs: 60_000,
      backoffMaxMs: 60_000,
    };
    const first = await startSource(topic, sink.url, unordered);
    await waitFor(
      () => new Set(sink.received.map((r) => seqOf(r.event))).size === events.length,
      20_000,
      'every record tried once',
    );
    await first.stop(); // record 3 waits a minute-long backoff: left, not committed
    expect((await committedOffsets(kafka, group, topic)).get(0)).toBe(3n);

    refuse3 = false;
    const before = sink.received.length;
    await startSource(topic, sink.url, unordered);
    await waitFor(() => allCommitted(group, topic), 20_000, 'offsets committed');
    const again = sink.received.slice(before).map((r) => seqOf(r.event));
    // At least once: record 3 again, and whatever came after it may come twice.
    expect(again).toContain(3);
    expect(Math.min(...again)).toBe(3);
  });

  it('unordered, as a process killed (-9) mid-way: records after an unanswered one were answered, yet none is lost', async () => {
    const topic = await freshTopic(1);
    const key = `r_${runId()}`;
    const events = Array.from({ length: 30 }, (_, n) => messageSend(key, n));
    const held = deferred<number>();
    cleanups.push(async () => held.resolve(503));
    const answered = new Set<number>();
    const sink = await sinkServer(async (e, attempt) => {
      const status = seqOf(e) === 10 && attempt === 1 ? await held.promise : 202;
      if (status === 202) answered.add(seqOf(e));
      return status;
    });
    await produce(topic, events);
    const group = `g-${runId()}`;
    const unordered = { DELIVERY_ORDERING: 'unordered', MAX_POLL_RECORDS: '5' };

    const first = spawnSource(topic, group, sink.url, unordered);
    // Record 10 hangs; the other four slots carry the records after it.
    await waitFor(() => answered.has(14), 20_000, 'records after 10 answered');
    await waitFor(
      async () => (await committedOffsets(kafka, group, topic)).get(0) === 10n,
      10_000,
      'offset 10 committed',
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(answered.has(10)).toBe(false);
    const beforeRestart = sink.received.length;

    const second = spawnSource(topic, group, sink.url, unordered);
    await waitFor(() => answered.size === events.length, 25_000, 'every record answered');
    // The new member starts at the committed offset: record 10 first, then what follows it again.
    const afterRestart = sink.received.slice(beforeRestart).map((r) => seqOf(r.event));
    expect(Math.min(...afterRestart)).toBe(10);
    await waitFor(() => allCommitted(group, topic), 10_000, 'offsets committed');
    second.kill('SIGTERM');
    expect(await new Promise((r) => second.once('exit', r))).toBe(0);
  });
});

/** The CLI (`kafka-source.main.ts`) as its own process, killed at the end of the test at the latest. */
function spawnSource(
  topic: string,
  group: string,
  sinkUrl: string,
  env: Record<string, string> = {},
): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'eventing/src/kafka-source.main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS,
      SOURCE_TOPICS: topic,
      CONSUMER_GROUP: group,
      SINK_URL: sinkUrl,
      // A SIGKILLed member holds its partitions until its session expires.
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}
