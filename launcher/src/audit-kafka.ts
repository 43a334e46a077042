/**
 * Kafka's side of the audit: what sits in the dead-letter topics, and how far
 * each consumer group is behind its topics.
 *
 * Dead letters are read with a throwaway consumer group (`parley-audit-…`)
 * that commits nothing, starting at most `limit` records before each
 * partition's end. A KafkaSource writes a record it gives up on unchanged to
 * `<topic>.dlq` plus Knative's `ce_knativeerror*` headers
 * (eventing/src/kafka/kafka-source.ts, deadLetterRecord); the record's value
 * (the event data, a message body perhaps) is never reported.
 *
 * Lag is the end offset minus the group's committed offset, per partition;
 * "a poison event did not block its partition" means the lag is back to 0.
 */
import { randomBytes } from 'node:crypto';
import {
  type ConsumedRecord,
  committedOffsets,
  createRecordConsumer,
  type KafkaClient,
  topicEndOffsets,
} from '@parley/eventing/kafka/kafka';
import type { Findings } from './audit-findings';

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  /** The record key (the room id for message events). */
  key: string | null;
  /** CloudEvent attributes from the `ce_` headers, when present. */
  type?: string;
  id?: string;
  source?: string;
  time?: string;
  /** HTTP status of the last delivery attempt (absent: no response). */
  errorCode?: string;
  errorDest?: string;
  /** The decoded `ce_knativeerrordata`: the function's error message, or the reason it was refused. */
  reason?: string;
  /** Counts against the audit (in its time / room scope, and not expected). */
  counted: boolean;
  /** Named by `expectDead`. */
  expected: boolean;
}

export interface GroupTopics {
  group: string;
  topics: readonly string[];
}

export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  /** The group's committed offset; null when it committed nothing on this partition. */
  committed: string | null;
  /** The partition's end offset (next offset to be written). */
  end: string;
  /** end − committed (end when nothing is committed). */
  lag: string;
  /** During a settle wait: whether the committed offset moved. */
  moved?: boolean;
}

const text = (v: Buffer | undefined): string | undefined =>
  v === undefined ? undefined : v.toString('utf8');

/** The reason a function gave: its error JSON's message, else the text itself (at most 300 characters). */
export function decodeReason(base64: string | undefined): string | undefined {
  if (base64 === undefined) return undefined;
  const raw = Buffer.from(base64, 'base64').toString('utf8');
  try {
    const json = JSON.parse(raw) as { error?: { code?: unknown; message?: unknown } };
    if (json.error && typeof json.error.message === 'string') {
      return `${typeof json.error.code === 'string' ? `${json.error.code}: ` : ''}${json.error.message}`.slice(
        0,
        300,
      );
    }
  } catch {
    // not JSON: the text is the reason
  }
  return raw.slice(0, 300);
}

export function toDeadLetter(r: ConsumedRecord): Omit<DeadLetter, 'counted' | 'expected'> {
  const h = (name: string) => text(r.headers[name]);
  const d: Omit<DeadLetter, 'counted' | 'expected'> = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    key: r.key === null ? null : r.key.toString('utf8'),
  };
  const put = (k: keyof DeadLetter, v: string | undefined) => {
    if (v !== undefined) (d as Record<string, unknown>)[k] = v;
  };
  put('type', h('ce_type'));
  put('id', h('ce_id'));
  put('source', h('ce_source'));
  put('time', h('ce_time'));
  put('errorCode', h('ce_knativeerrorcode'));
  put('errorDest', h('ce_knativeerrordest'));
  put('reason', decodeReason(h('ce_knativeerrordata')));
  return d;
}

/** kafkajs' answer for a topic that does not exist (possibly wrapped in its retry error). */
export function isUnknownTopic(err: unknown): boolean {
  const type = (e: unknown) =>
    typeof e === 'object' && e !== null && 'type' in e ? String(e.type) : undefined;
  const cause = typeof err === 'object' && err !== null && 'cause' in err ? err.cause : undefined;
  return type(err) === 'UNKNOWN_TOPIC_OR_PARTITION' || type(cause) === 'UNKNOWN_TOPIC_OR_PARTITION';
}

export interface ReadDeadLettersOptions {
  /** At most this many records per partition, the newest. */
  limit: number;
  /** Give up waiting for a partition's last record after this long. */
  timeoutMs: number;
}

export interface DeadLetterRead {
  records: Omit<DeadLetter, 'counted' | 'expected'>[];
  /** Topics that do not exist. */
  missingTopics: string[];
  /** Partitions whose last record was not reached before the timeout (`topic:partition`). */
  unread: string[];
}

export async function readDeadLetters(
  kafka: KafkaClient,
  topics: readonly string[],
  opts: ReadDeadLettersOptions,
): Promise<DeadLetterRead> {
  const missingTopics: string[] = [];
  const starts: { topic: string; partition: number; offset: string }[] = [];
  /** `topic:partition` → the offset of its last record. */
  const last = new Map<string, bigint>();
  for (const topic of topics) {
    let ends: Map<number, string>;
    try {
      ends = await whenKafkaSettles(() => topicEndOffsets(kafka, topic));
    } catch (err) {
      if (!isUnknownTopic(err)) throw err;
      missingTopics.push(topic);
      continue;
    }
    for (const [partition, end] of ends) {
      const high = BigInt(end);
      if (high === 0n) continue;
      const from = high - BigInt(opts.limit);
      starts.push({ topic, partition, offset: (from > 0n ? from : 0n).toString() });
      last.set(`${topic}:${partition}`, high - 1n);
    }
  }
  const records: Omit<DeadLetter, 'counted' | 'expected'>[] = [];
  if (!starts.length) return { records, missingTopics, unread: [] };

  const pending = new Set(last.keys());
  const startOf = new Map(starts.map((s) => [`${s.topic}:${s.partition}`, BigInt(s.offset)]));
  let done!: () => void;
  const reached = new Promise<void>((resolve) => {
    done = resolve;
  });
  const consumer = createRecordConsumer(kafka, {
    group: `parley-audit-${randomBytes(6).toString('hex')}`,
    topics: [...new Set(starts.map((s) => s.topic))],
    fromBeginning: true,
    startOffsets: starts,
    handle: async (r) => {
      const at = `${r.topic}:${r.partition}`;
      const offset = BigInt(r.offset);
      const end = last.get(at);
      if (end !== undefined && offset >= (startOf.get(at) ?? 0n) && offset <= end) {
        records.push(toDeadLetter(r));
        if (offset === end) pending.delete(at);
        if (!pending.size) done();
      }
      // Never commit: the audit leaves no offsets behind.
      return 'leave';
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.start();
    await Promise.race([
      reached,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, opts.timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.stop();
  }
  records.sort(
    (a, b) =>
      a.topic.localeCompare(b.topic) ||
      a.partition - b.partition ||
      Number(BigInt(a.offset) - BigInt(b.offset)),
  );
  return { records, missingTopics, unread: [...pending] };
}

export interface DeadLetterScope {
  /** Only records of events created at or after this time count (records without `ce_time` always do). */
  sinceMs?: number;
  /** Only records keyed by one of these rooms count. */
  rooms?: ReadonlySet<string>;
}

/**
 * Which records count: in scope and not expected. Every expected id must be
 * there; every counted record is a failure.
 */
export function judgeDeadLetters(
  read: DeadLetterRead,
  scope: DeadLetterScope,
  expectDead: readonly string[],
  out: Findings,
): DeadLetter[] {
  const expected = new Set(expectDead);
  const found = new Set<string>();
  const judged = read.records.map((r): DeadLetter => {
    const isExpected = r.id !== undefined && expected.has(r.id);
    if (isExpected) found.add(r.id as string);
    const time = r.time === undefined ? Number.NaN : Date.parse(r.time);
    const inScope =
      (scope.rooms === undefined || (r.key !== null && scope.rooms.has(r.key))) &&
      (scope.sinceMs === undefined || Number.isNaN(time) || time >= scope.sinceMs);
    return { ...r, counted: inScope && !isExpected, expected: isExpected };
  });
  for (const d of judged) {
    if (!d.counted) continue;
    out.fail({
      check: 'dead-letters',
      problem: 'dead-lettered',
      ...(d.key !== null && scope.rooms?.has(d.key) ? { roomId: d.key } : {}),
      message: `${d.topic} partition ${d.partition} offset ${d.offset}: ${d.type ?? 'unknown type'} ${d.id ?? '(no id)'}${d.errorCode ? `, HTTP ${d.errorCode}` : ', no response'}${d.reason ? `: ${d.reason}` : ''}`,
      ids: d.id ? [d.id] : [],
      detail: {
        topic: d.topic,
        partition: d.partition,
        offset: d.offset,
        key: d.key,
        type: d.type,
        errorCode: d.errorCode,
      },
    });
  }
  const absent = expectDead.filter((id) => !found.has(id));
  if (absent.length) {
    out.fail({
      check: 'dead-letters',
      problem: 'expected-missing',
      message: `expected in a dead-letter topic but not found: ${absent.join(', ')}`,
      ids: absent,
    });
  }
  for (const topic of read.missingTopics) {
    out.warn({
      check: 'dead-letters',
      problem: 'no-topic',
      message: `dead-letter topic ${topic} does not exist`,
      detail: { topic },
    });
  }
  if (read.unread.length) {
    out.fail({
      check: 'dead-letters',
      problem: 'unread',
      message: `could not read to the end of ${read.unread.join(', ')} in time`,
      detail: { partitions: read.unread },
    });
  }
  return judged;
}

/**
 * Retries an admin read while Kafka says it is not ready to answer it yet: a broker that just
 * started is still electing the coordinator of `__consumer_offsets` ("This is not the correct
 * coordinator for this group", "The coordinator is loading"), which kafkajs does not retry for
 * offset fetches. Anything else throws at once.
 */
export async function whenKafkaSettles<T>(
  read: () => Promise<T>,
  attempts = 20,
  waitMs = 500,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await read();
    } catch (err) {
      const text = `${String(err)} ${String((err as { cause?: unknown }).cause ?? '')}`;
      // Not "unknown topic" (kafkajs calls it retriable): a missing topic is an answer here.
      const transient =
        !isUnknownTopic(err) &&
        ((err as { retriable?: boolean }).retriable === true ||
          /coordinator|leader.*not available|loading/i.test(text));
      if (!transient || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

/** Every partition of every group's topics (a missing topic throws). */
export async function consumerLag(
  kafka: KafkaClient,
  groups: readonly GroupTopics[],
): Promise<PartitionLag[]> {
  const out: PartitionLag[] = [];
  for (const { group, topics } of groups) {
    for (const topic of topics) {
      const [ends, committed] = await whenKafkaSettles(() =>
        Promise.all([topicEndOffsets(kafka, topic), committedOffsets(kafka, group, topic)]),
      );
      for (const [partition, endStr] of [...ends].sort((a, b) => a[0] - b[0])) {
        const end = BigInt(endStr);
        const c = committed.get(partition);
        const has = c !== undefined && c >= 0n;
        const lag = has ? end - (c as bigint) : end;
        out.push({
          group,
          topic,
          partition,
          committed: has ? (c as bigint).toString() : null,
          end: end.toString(),
          lag: (lag > 0n ? lag : 0n).toString(),
        });
      }
    }
  }
  return out;
}

const behind = (lags: readonly PartitionLag[]) => lags.some((l) => l.lag !== '0');

/**
 * Reads the lag until every partition is at 0 or `settleMs` has passed; the
 * last reading says, per partition, whether its committed offset moved.
 */
export async function settledLag(
  read: () => Promise<PartitionLag[]>,
  settleMs: number,
  clock: { now: () => number; sleep: (ms: number) => Promise<void> },
): Promise<PartitionLag[]> {
  const first = await read();
  let last = first;
  const deadline = clock.now() + settleMs;
  while (behind(last) && clock.now() < deadline) {
    await clock.sleep(Math.min(1_000, Math.max(0, deadline - clock.now())));
    last = await read();
  }
  if (settleMs <= 0) return last;
  const before = new Map(first.map((l) => [`${l.group}|${l.topic}|${l.partition}`, l.committed]));
  return last.map((l) => ({
    ...l,
    moved: before.get(`${l.group}|${l.topic}|${l.partition}`) !== l.committed,
  }));
}

/** One failure per group and topic that is behind, naming its partitions. */
export function judgeLag(lags: readonly PartitionLag[], settleMs: number, out: Findings): void {
  const byGroupTopic = new Map<string, PartitionLag[]>();
  for (const l of lags) {
    if (l.lag === '0') continue;
    const k = `${l.group}\u0000${l.topic}`;
    byGroupTopic.set(k, [...(byGroupTopic.get(k) ?? []), l]);
  }
  for (const list of byGroupTopic.values()) {
    const { group, topic } = list[0] as PartitionLag;
    const parts = list.map((l) => {
      const state =
        l.committed === null
          ? 'nothing committed'
          : l.moved === undefined
            ? ''
            : l.moved
              ? 'moving'
              : `stuck at ${l.committed}`;
      return `partition ${l.partition} ${l.lag} behind${state ? ` (${state})` : ''}`;
    });
    out.fail({
      check: 'consumer-lag',
      problem: 'behind',
      message: `${group} on ${topic}: ${parts.join(', ')}${settleMs > 0 ? ` after waiting ${Math.round(settleMs / 1000)} s` : ''}`,
      detail: { group, topic, partitions: list },
    });
  }
}
