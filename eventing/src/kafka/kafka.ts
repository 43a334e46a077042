/**
 * The one module that touches kafkajs, so the client can be swapped (kafkajs
 * is unmaintained since 2023). Everything else in Parley sees only the small
 * types below: a client handle, a record producer, a record consumer, topic
 * admin, and an EventSink that produces CloudEvents in the Kafka binding.
 */
import { type Logger, ParleyError } from '@parley/runtime';
import {
  type Consumer,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { CATALOG, isEventType, TOPIC_PARTITIONS, TOPICS, withDeadLetterTopics } from '../catalog';
import { type KafkaRecordLike, toKafkaRecord } from '../cloudevent';
import { DEFAULT_MAX_POLL_RECORDS, type DeliveryOrdering, sleep } from '../delivery-policy';
import type { EventSink } from '../event-sink';
import { fixKafkajsIdleLoop } from './kafkajs-idle-fix';

/** A connection handle; opaque outside this module. */
export interface KafkaClient {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly log: Logger;
}

const clients = new WeakMap<KafkaClient, Kafka>();
const inner = (client: KafkaClient): Kafka => clients.get(client) as Kafka;

/** kafkajs logs (warn and up) as our structured logs. */
function logCreatorFor(log: Logger) {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry;
      const obj = { kafka: namespace, ...extra };
      if (level === logLevel.ERROR) log.error(obj, message);
      else if (level === logLevel.WARN) log.warn(obj, message);
      else log.debug(obj, message);
    };
}

/**
 * @param brokers `host:port` list (a comma-separated string is split)
 * @example const kafka = createKafka({ brokers: '127.0.0.1:9092', clientId: 'kafka-sink', log })
 */
export function createKafka(opts: {
  brokers: string | readonly string[];
  clientId: string;
  log: Logger;
}): KafkaClient {
  const brokers = (typeof opts.brokers === 'string' ? opts.brokers.split(',') : [...opts.brokers])
    .map((b) => b.trim())
    .filter(Boolean);
  if (!brokers.length) throw new ParleyError('bad_request', 'no Kafka brokers given');
  fixKafkajsIdleLoop();
  const log = opts.log.child({ component: 'kafkajs' });
  const client: KafkaClient = { clientId: opts.clientId, brokers, log: opts.log };
  clients.set(
    client,
    new Kafka({
      clientId: opts.clientId,
      brokers,
      logLevel: logLevel.WARN,
      logCreator: logCreatorFor(log),
    }),
  );
  return client;
}

// ---------------------------------------------------------------- producing

export interface OutgoingRecord {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers: Record<string, string | Buffer>;
}

export interface RecordProducer {
  /** Connects now (otherwise the first send does). */
  connect(): Promise<void>;
  /** Resolves once every in-sync replica has the record (acks -1). */
  send(topic: string, record: OutgoingRecord): Promise<void>;
  isConnected(): boolean;
  close(): Promise<void>;
}

/** Records per produce request when sends pile up. */
const MAX_BATCH = 500;

export interface RecordProducerOptions {
  /**
   * A batch Kafka has not acknowledged within this long is failed (its callers retry), and the
   * kafkajs producer is replaced by a fresh one: after a broker restart a producer can sit on a
   * request forever, and everything queued behind it with it. Default 10 s.
   */
  deadlineMs?: number;
  /** Records waiting to be produced at most; past it `send` fails at once (default 10,000). */
  maxQueued?: number;
  /**
   * Kafka's `linger.ms`, which kafkajs lacks: a send that finds the producer idle waits this long
   * for others to share its produce request; 0 waits one turn of the event loop (the sends of
   * requests read in the same turn go together); unset, it goes at once, alone. Sends made while
   * a request is out always wait for it and go together in the next one, linger or not.
   */
  lingerMs?: number;
  /** Called with the number of records of each produce request (metrics). */
  onBatch?: (records: number) => void;
}

interface PendingSend {
  topic: string;
  record: OutgoingRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A producer that connects on first use and keeps call order: concurrent
 * `send`s are queued and go out as sequential batches (one produce request
 * each, after `lingerMs` if the producer was idle), so records of one key land
 * in the order `send` was called — kafkajs alone reorders concurrent sends
 * when one of them is retried. Each `send` resolves only once Kafka
 * acknowledged the request that carried its record (acks -1).
 * @example await createRecordProducer(kafka).send('t', { key: 'k', value: '{}', headers: {} })
 */
export function createRecordProducer(
  client: KafkaClient,
  opts: RecordProducerOptions = {},
): RecordProducer {
  const deadlineMs = opts.deadlineMs ?? 10_000;
  const maxQueued = opts.maxQueued ?? 10_000;
  const linger =
    opts.lingerMs === undefined
      ? undefined
      : opts.lingerMs > 0
        ? () => new Promise<void>((r) => setTimeout(r, opts.lingerMs))
        : () => new Promise<void>((r) => setImmediate(r));
  const fresh = (): Producer => {
    const p = inner(client).producer({
      // Java's murmur2 partitioner: the same key lands on the same partition as
      // from a Java producer (Knative's KafkaSink) — and no kafkajs v2 warning.
      createPartitioner: Partitioners.DefaultPartitioner,
      // One request in flight per broker: a retried batch cannot overtake the
      // next one, so per-key order holds under retries. kafkajs' idempotent
      // producer would allow more, but it is experimental there; consumers are
      // idempotent instead (duplicates are allowed, reordering is not).
      maxInFlightRequests: 1,
      idempotent: false,
      allowAutoTopicCreation: false,
      // Retries inside the deadline, not kafkajs' ~25 s default: the callers retry too.
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 },
    });
    p.on(p.events.CONNECT, () => {
      if (p === producer) connected = true;
    });
    p.on(p.events.DISCONNECT, () => {
      if (p === producer) connected = false;
    });
    return p;
  };
  let connected = false;
  let connecting: Promise<void> | undefined;
  let producer: Producer = fresh();
  const connect = (): Promise<void> => {
    const p = producer;
    connecting ??= p.connect().catch((err: unknown) => {
      if (p === producer) connecting = undefined;
      throw err;
    });
    return connecting;
  };
  /** Drops a producer that missed its deadline; the next batch connects a fresh one. */
  const recycle = (reason: string) => {
    const old = producer;
    producer = fresh();
    connecting = undefined;
    connected = false;
    client.log.warn({ reason, deadlineMs }, 'Kafka producer replaced');
    void old.disconnect().catch(() => undefined);
  };
  const withDeadline = <T>(work: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ProduceDeadlineError(`${what}: no answer from Kafka in ${deadlineMs} ms`)),
        deadlineMs,
      );
    });
    work.catch(() => undefined); // settles after the deadline: nobody awaits it then
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  };

  let queue: PendingSend[] = [];
  let running = false;
  let flushing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    while (queue.length) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      const byTopic = new Map<string, Array<OutgoingRecord>>();
      for (const p of batch) {
        const records = byTopic.get(p.topic);
        if (records) records.push(p.record);
        else byTopic.set(p.topic, [p.record]);
      }
      opts.onBatch?.(batch.length);
      try {
        await withDeadline(connect(), 'connect');
        await withDeadline(
          producer.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          }),
          'produce',
        );
        for (const p of batch) p.resolve();
      } catch (err) {
        // The batch may still land later (at least once; consumers dedupe), but nothing else
        // waits behind the stuck producer.
        if (err instanceof ProduceDeadlineError) recycle(err.message);
        for (const p of batch) p.reject(err);
      }
    }
    // In the same tick as the empty check: a send queued later starts a new flush.
    running = false;
  };

  return {
    connect,
    send(topic, record) {
      if (queue.length >= maxQueued)
        return Promise.reject(
          new Error(`${queue.length} records already wait for Kafka; not queueing more`),
        );
      return new Promise<void>((resolve, reject) => {
        queue.push({ topic, record, resolve, reject });
        if (!running) {
          running = true;
          flushing = linger ? linger().then(flush) : flush();
        }
      });
    },
    isConnected: () => connected,
    async close() {
      await flushing;
      if (connecting) await connecting.catch(() => undefined);
      await producer.disconnect();
    },
  };
}

class ProduceDeadlineError extends Error {}

export interface KafkaEventSink extends EventSink {
  connect(): Promise<void>;
  isConnected(): boolean;
  close(): Promise<void>;
}

/**
 * Produces each event (Kafka binary mode) to its catalog topic, keyed by its
 * partition key. A Kafka failure becomes ParleyError('unavailable').
 * @example const sink = kafkaEventSink(kafka); await sink.emit(event)
 */
export function kafkaEventSink(
  client: KafkaClient,
  opts: RecordProducerOptions = {},
): KafkaEventSink {
  const producer = createRecordProducer(client, opts);
  return {
    async emit(event) {
      if (!isEventType(event.type))
        throw new ParleyError('bad_request', `unknown event type ${event.type}`);
      try {
        await producer.send(CATALOG[event.type].topic, toKafkaRecord(event));
      } catch (err) {
        throw new ParleyError('unavailable', `Kafka refused the event: ${String(err)}`, {
          cause: err,
        });
      }
    },
    connect: () => producer.connect(),
    isConnected: () => producer.isConnected(),
    close: () => producer.close(),
  };
}

// ---------------------------------------------------------------- consuming

export interface ConsumedRecord extends KafkaRecordLike {
  topic: string;
  partition: number;
  /** Kafka offsets are int64: kept as a decimal string. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
}

/** `commit`: handled, move the group's offset past it; `leave`: stopping, redeliver it later. */
export type RecordOutcome = 'commit' | 'leave';

export interface RecordConsumerOptions {
  group: string;
  topics: readonly string[];
  /** Where a group without a committed offset starts. Default true (earliest). */
  fromBeginning?: boolean;
  /** Partitions handled in parallel; default = the topics' partition count. */
  concurrency?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * Handled offsets are committed together at most this often (default 100 ms),
   * not one round trip per record: a crash redelivers at most this window, which
   * at-least-once delivery and idempotent handlers absorb. 0 commits each record.
   */
  commitIntervalMs?: number;
  /** Start these partitions at these offsets instead of the committed ones (replays, tests). */
  startOffsets?: ReadonlyArray<{ topic: string; partition: number; offset: string }>;
  /**
   * `ordered` (default): `handle` is called for one record at a time per partition, in offset
   * order. `unordered`: for every record as it is read, up to `maxInFlight` at once over all
   * partitions, finishing in any order; a partition's committed offset moves only up to its
   * lowest record not yet handled (or left), as Knative's unordered dispatcher commits.
   */
  ordering?: DeliveryOrdering;
  /** Unordered only: records being handled at once, at most (Knative's `max.poll.records`, 50). */
  maxInFlight?: number;
  /**
   * Unordered only: after a fetch that brought fewer than 10 records, wait this long before the
   * next one (default 0), so that at a trickle a few records share a fetch. Adds up to this much
   * latency; an idle topic is long-polled as ever.
   */
  fetchLingerMs?: number;
  /**
   * Called once per record read (see `ordering`). `signal` aborts when the consumer stops:
   * return 'leave' then.
   */
  handle(record: ConsumedRecord, signal: AbortSignal): Promise<RecordOutcome>;
}

export interface RecordConsumer {
  /** Connects, joins the group and starts delivering (resolves before partitions are assigned). */
  start(): Promise<void>;
  /** Aborts pending waits, lets in-flight handlers finish, leaves the group, disconnects. */
  stop(): Promise<void>;
  /** True while the consumer is in the group with an assignment. */
  isJoined(): boolean;
}

/**
 * The commit position of one partition under unordered delivery: records are taken in offset
 * order and finish in any order; the position is the lowest offset taken but not handled, or one
 * past the last taken when none is open. A record left unhandled (the consumer stopping) stays
 * open, so no commit passes it.
 */
export class PartitionCommits {
  /** Offsets taken and not handled yet, with how many times (a rebalance may hand one out twice). */
  private readonly open = new Map<bigint, number>();
  private next: bigint | undefined;

  /** A record is about to be handled. */
  take(offset: bigint): void {
    this.open.set(offset, (this.open.get(offset) ?? 0) + 1);
    // Set, not raised: after a rebalance the partition is read again from its committed offset.
    this.next = offset + 1n;
  }

  /** A record was handled (delivered or dead-lettered): returns the offset now safe to commit. */
  handled(offset: bigint): bigint | undefined {
    const n = this.open.get(offset) ?? 0;
    if (n <= 1) this.open.delete(offset);
    else this.open.set(offset, n - 1);
    return this.position();
  }

  /** The next offset to commit: every record below it was handled; undefined before any was taken. */
  position(): bigint | undefined {
    let lowest: bigint | undefined;
    for (const o of this.open.keys()) if (lowest === undefined || o < lowest) lowest = o;
    return lowest ?? this.next;
  }
}

/** A fetch that brought at least this many records is followed at once by the next (see `fetchLingerMs`). */
const MIN_BATCH_WITHOUT_LINGER = 10;

/** A counting semaphore whose waits end (false) when `signal` aborts. */
class Slots {
  private free: number;
  private readonly waiting: Array<(ok: boolean) => void> = [];

  constructor(size: number, signal: AbortSignal) {
    this.free = size;
    signal.addEventListener('abort', () => {
      for (const w of this.waiting.splice(0)) w(false);
    });
  }

  /** Takes a slot if one is free now. */
  tryAcquire(): boolean {
    if (this.free <= 0) return false;
    this.free--;
    return true;
  }

  /** Waits for a slot: true once taken, false if the signal aborted first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.free++;
  }
}

const firstHeader = (v: unknown): Buffer | undefined => {
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined || one === null) return undefined;
  return Buffer.isBuffer(one) ? one : Buffer.from(String(one));
};

/**
 * A consumer-group member with manual commits: an offset is committed only
 * after `handle` says 'commit', so a crash redelivers (at least once).
 * @example createRecordConsumer(kafka, { group: 'g', topics: ['t'], handle: async (r) => 'commit' })
 */
export function createRecordConsumer(
  client: KafkaClient,
  opts: RecordConsumerOptions,
): RecordConsumer {
  const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval =
    opts.heartbeatIntervalMs ?? Math.min(3_000, Math.floor(sessionTimeout / 3));
  const consumer: Consumer = inner(client).consumer({
    groupId: opts.group,
    sessionTimeout,
    heartbeatInterval,
    // An idle long-poll fetch delays stop() by up to this much (kafkajs default 5 s).
    maxWaitTimeInMs: 1_000,
    allowAutoTopicCreation: false,
  });
  const abort = new AbortController();
  const inflight = new Set<Promise<void>>();
  const unordered = opts.ordering === 'unordered';
  const slots = new Slots(Math.max(1, opts.maxInFlight ?? DEFAULT_MAX_POLL_RECORDS), abort.signal);
  const positions = new Map<string, PartitionCommits>();
  const commitInterval = opts.commitIntervalMs ?? 100;
  // Next offset to commit per partition; only offsets whose record was handled get here.
  const toCommit = new Map<string, { topic: string; partition: number; offset: string }>();
  let commitTimer: NodeJS.Timeout | undefined;
  let committing: Promise<void> = Promise.resolve();
  const flushCommits = (): Promise<void> => {
    clearTimeout(commitTimer);
    commitTimer = undefined;
    if (toCommit.size === 0) return committing;
    const batch = [...toCommit.values()];
    toCommit.clear();
    // Chained, so commits reach the coordinator in order and offsets only move forward.
    committing = committing.then(() =>
      consumer.commitOffsets(batch).catch((err) => {
        // A partition moved to another member meanwhile: it redelivers from the last commit.
        client.log.warn(
          { err, group: opts.group },
          'offset commit failed; records may be redelivered',
        );
      }),
    );
    return committing;
  };
  const queueCommit = async (topic: string, partition: number, next: bigint | undefined) => {
    if (next === undefined) return;
    toCommit.set(`${topic}:${partition}`, { topic, partition, offset: next.toString() });
    if (commitInterval <= 0) await flushCommits();
    else commitTimer ??= setTimeout(() => void flushCommits(), commitInterval);
  };
  const recordOf = (
    topic: string,
    partition: number,
    message: { offset: string; key: Buffer | null; value: Buffer | null; headers?: object },
  ): ConsumedRecord => {
    const headers: Record<string, Buffer | undefined> = {};
    for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = firstHeader(v);
    return {
      topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers,
    };
  };
  /**
   * Runs `work` while kafkajs is kept from thinking the member died: it heartbeats only between
   * messages, and one record may be retried (or wait for a slot) for longer than a session.
   */
  const keptAlive = async <T>(heartbeat: () => Promise<void>, work: () => Promise<T>) => {
    const keepAlive = setInterval(() => heartbeat().catch(() => undefined), heartbeatInterval);
    try {
      return await work();
    } finally {
      clearInterval(keepAlive);
    }
  };
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  consumer.on(consumer.events.REBALANCING, () => {
    joined = false;
  });
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    client.log.error(
      { err: e.payload.error, group: opts.group, restart: e.payload.restart },
      'Kafka consumer crashed',
    );
  });
  let started = false;
  return {
    async start() {
      const concurrency = opts.concurrency ?? (await partitionCount(client, opts.topics));
      await consumer.connect();
      started = true;
      await consumer.subscribe({
        topics: [...opts.topics],
        fromBeginning: opts.fromBeginning ?? true,
      });
      /** Unordered: takes a slot and starts handling the record; false if stopping first. */
      const dispatch = async (
        record: ConsumedRecord,
        heartbeat: () => Promise<void>,
      ): Promise<boolean> => {
        if (!slots.tryAcquire() && !(await keptAlive(heartbeat, () => slots.acquire(abort.signal))))
          return false;
        const { topic, partition } = record;
        const key = `${topic}:${partition}`;
        const track = positions.get(key) ?? new PartitionCommits();
        positions.set(key, track);
        const offset = BigInt(record.offset);
        track.take(offset);
        const work = (async () => {
          try {
            // A record left (stopping) stays open in `track`: no commit passes it.
            if ((await opts.handle(record, abort.signal)) === 'commit')
              await queueCommit(topic, partition, track.handled(offset));
          } catch (err) {
            // Open as well: it is read again after the next rebalance or restart.
            client.log.error(
              { err, group: opts.group, topic, partition, offset: record.offset },
              'record handler failed; its offset stays uncommitted',
            );
          } finally {
            slots.release();
          }
        })();
        inflight.add(work);
        void work.finally(() => inflight.delete(work)).catch(() => undefined);
        return true;
      };
      const fetchLingerMs = opts.fetchLingerMs ?? 0;
      await consumer.run(
        unordered
          ? {
              autoCommit: false,
              // Each offset is resolved (read past) as its record is dispatched, so a batch cut
              // short by a stop or a rebalance is read again from the first one not taken.
              eachBatchAutoResolve: false,
              partitionsConsumedConcurrently: Math.max(1, concurrency),
              eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
                for (const message of batch.messages) {
                  if (abort.signal.aborted || !isRunning() || isStale()) return;
                  const record = recordOf(batch.topic, batch.partition, message);
                  // Returns once the record has a slot, so kafkajs reads on while it is delivered.
                  if (!(await dispatch(record, heartbeat))) return;
                  resolveOffset(message.offset);
                }
                // kafkajs spends ~2 ms of CPU per fetch, and at a trickle every fetch brings one
                // record: a short pause before the next one lets a few gather (an idle topic
                // still long-polls, so this costs nothing when nothing comes).
                if (fetchLingerMs > 0 && batch.messages.length < MIN_BATCH_WITHOUT_LINGER)
                  await sleep(fetchLingerMs, abort.signal);
              },
            }
          : {
              autoCommit: false,
              partitionsConsumedConcurrently: Math.max(1, concurrency),
              eachMessage: async ({ topic, partition, message, heartbeat }) => {
                if (abort.signal.aborted) return;
                const record = recordOf(topic, partition, message);
                const work = (async () => {
                  // Committed even while stopping: the record was handled.
                  if ((await opts.handle(record, abort.signal)) !== 'commit') return;
                  await queueCommit(topic, partition, BigInt(message.offset) + 1n);
                })();
                inflight.add(work);
                try {
                  await keptAlive(heartbeat, () => work);
                } finally {
                  inflight.delete(work);
                }
              },
            },
      );
      for (const at of opts.startOffsets ?? []) consumer.seek(at);
    },
    async stop() {
      abort.abort();
      if (started) {
        // kafkajs ignores commits once it is stopping: let the handlers in
        // flight finish and commit first, taking no new records meanwhile.
        try {
          consumer.pause(opts.topics.map((topic) => ({ topic })));
        } catch {
          // not running yet
        }
        await Promise.allSettled([...inflight]);
        await flushCommits();
        await consumer.disconnect();
      }
      joined = false;
    },
    isJoined: () => joined,
  };
}

// ---------------------------------------------------------------- admin

async function withAdmin<T>(client: KafkaClient, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = inner(client).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

type Admin = ReturnType<Kafka['admin']>;

/**
 * kafkajs's errors for a topic or partition the broker does not serve yet (a leader still being
 * elected or loading its log): retriable by Kafka's own table, or kafkajs's retries ran out on one.
 */
const notServedYet = (err: unknown): boolean =>
  typeof err === 'object' &&
  err !== null &&
  ((err as { retriable?: unknown }).retriable === true ||
    (err as { name?: unknown }).name === 'KafkaJSNumberOfRetriesExceeded');

/** How long a topic may take to be served after it was created or grown. */
const SERVED_WITHIN_MS = 60_000;

/**
 * Waits until the leader of every partition of `topics` answers (a list-offsets request per
 * topic). A freshly created or grown topic is listed before its partitions are served: a single
 * busy broker took seconds for 10 topics of 24 partitions, and a producer or consumer started
 * meanwhile met UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_FOR_PARTITION.
 */
async function untilServed(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + SERVED_WITHIN_MS;
  for (const topic of topics) {
    for (;;) {
      try {
        await admin.fetchTopicOffsets(topic);
        break;
      } catch (err) {
        if (!notServedYet(err) || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
  }
}

/** Total partitions of `topics` (they must exist). */
export async function partitionCount(
  client: KafkaClient,
  topics: readonly string[],
): Promise<number> {
  return withAdmin(client, async (admin) => {
    const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
    return meta.topics.reduce((n, t) => n + t.partitions.length, 0);
  });
}

/**
 * Creates each topic and its dead-letter topic unless it exists (safe to run
 * concurrently and repeatedly), and returns once every partition of them is
 * served by its leader. Returns the topics that were missing.
 * @example await ensureTopics(kafka) // every topic of TOPICS + .dlq, TOPIC_PARTITIONS each
 */
export async function ensureTopics(
  client: KafkaClient,
  topics: readonly string[] = Object.values(TOPICS),
  partitions = TOPIC_PARTITIONS,
): Promise<string[]> {
  const wanted = withDeadLetterTopics(topics);
  return withAdmin(client, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({ topic, numPartitions: partitions })),
        });
      } catch (err) {
        // A racing creator made them first, or their leaders are not elected yet: fine if they
        // all exist now (untilServed waits for the leaders).
        const now = new Set(await admin.listTopics());
        if (missing.some((t) => !now.has(t))) throw err;
      }
    }
    await untilServed(admin, wanted);
    return missing;
  });
}

/**
 * Raises each topic and its dead-letter topic to `partitions` if it has fewer (Kafka never
 * shrinks one). Returns the topics grown. Growing moves keys to other partitions: run it with the
 * producers paused and the consumers drained (docs/operations.md), as the stack does before it
 * starts any process.
 * @example await growTopics(kafka) // every topic of TOPICS + .dlq, to TOPIC_PARTITIONS
 */
export async function growTopics(
  client: KafkaClient,
  topics: readonly string[] = Object.values(TOPICS),
  partitions = TOPIC_PARTITIONS,
): Promise<string[]> {
  const wanted = withDeadLetterTopics(topics);
  return withAdmin(client, async (admin) => {
    const small = async () =>
      (await admin.fetchTopicMetadata({ topics: wanted })).topics
        .filter((t) => t.partitions.length < partitions)
        .map((t) => t.name);
    const grow = await small();
    if (!grow.length) return [];
    try {
      await admin.createPartitions({
        topicPartitions: grow.map((topic) => ({ topic, count: partitions })),
      });
    } catch (err) {
      // Another process grew them first (INVALID_PARTITIONS): fine if they are all big enough now.
      if ((await small()).length) throw err;
    }
    await untilServed(admin, grow);
    return grow;
  });
}

/** Deletes topics (tests clean up their per-run topics). */
export async function deleteTopics(client: KafkaClient, topics: readonly string[]): Promise<void> {
  if (!topics.length) return;
  await withAdmin(client, (admin) => admin.deleteTopics({ topics: [...topics] }));
}

/** The next offset to be written (high watermark) of each partition of `topic`. */
export async function topicEndOffsets(
  client: KafkaClient,
  topic: string,
): Promise<Map<number, string>> {
  return withAdmin(client, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, o.high]));
  });
}

/** The group's committed offset per partition of `topic` (-1: nothing committed). */
export async function committedOffsets(
  client: KafkaClient,
  group: string,
  topic: string,
): Promise<Map<number, bigint>> {
  return withAdmin(client, async (admin) => {
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const out = new Map<number, bigint>();
    for (const p of res[0]?.partitions ?? []) out.set(p.partition, BigInt(p.offset));
    return out;
  });
}

/**
 * The offset reads a long-lived admin client makes (consumer-lag.ts): kafkajs's own signatures,
 * narrowed, so a test can fake them and nothing else sees kafkajs.
 */
export interface OffsetsAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The group's committed offset per partition of each topic (`'-1'`: nothing committed). */
  fetchOffsets(opts: {
    groupId: string;
    topics: string[];
  }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
  /** Each partition's first (`low`) and next-to-be-written (`high`) offset. */
  fetchTopicOffsets(
    topic: string,
  ): Promise<Array<{ partition: number; low: string; high: string }>>;
}

/**
 * An admin client kept open by its caller (connect, many reads, disconnect), with few retries:
 * a periodic reader would rather fail this read and try again at the next one.
 * @example const admin = createOffsetsAdmin(kafka); await admin.connect()
 */
export function createOffsetsAdmin(client: KafkaClient): OffsetsAdmin {
  return inner(client).admin({ retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 } });
}
