/**
 * The embedded mode's event bus: Kafka's delivery semantics in one process.
 * Like Knative's InMemoryChannel it is NEITHER DURABLE NOR DISTRIBUTED: events
 * live in this process's memory only, and are lost when it exits.
 *
 * Semantics kept from Kafka + the KafkaSource stand-in:
 * - an event goes to its catalog topic, partition = fnv1a32(partitionkey) % partitions;
 * - each consumer group gets every event; within a group each partition is
 *   delivered in order, one event at a time (per-key order), partitions in parallel;
 * - at least once: a handler that throws a retriable error is retried with
 *   exponential backoff; a non-retriable ParleyError, or exhausted retries,
 *   sends the event to the topic's dead-letter topic and the partition moves on;
 * - a new group starts from the earliest retained event (auto.offset.reset=earliest);
 *   a group that comes back continues where it stopped;
 * - several subscribers in one group share its partitions (p % members).
 * Retention is bounded per topic: the oldest events that every group has
 * consumed are dropped first; unconsumed events are never dropped.
 */
import type { ErrorCode } from '@parley/protocol';
import { asParleyError, createLogger, fnv1a32, type Logger, ParleyError } from '@parley/runtime';
import { CATALOG, deadLetterTopic, isEventType, TOPIC_PARTITIONS } from './catalog';
import {
  type AnyParleyEvent,
  fromKafkaRecord,
  type ParleyEvent,
  toKafkaRecord,
} from './cloudevent';
import { backoffMs, DEFAULT_DELIVERY, type DeliveryPolicy, sleep } from './delivery-policy';
import type { EventSink } from './event-sink';

export type BusHandler = (event: AnyParleyEvent) => Promise<void>;

export interface BusSubscribeOptions extends Partial<DeliveryPolicy> {
  topic: string;
  group: string;
  handler: BusHandler;
}

export interface BusSubscription {
  /** Stops this subscriber; waits for its in-flight delivery (a pending retry is left for redelivery). */
  close(): Promise<void>;
}

export interface DeadLetter {
  event: AnyParleyEvent;
  /** The topic the event failed on and the group that gave up. */
  topic: string;
  group: string;
  code: ErrorCode;
  reason: string;
  attempts: number;
}

export interface MemoryBusOptions {
  partitions?: number;
  /** Events retained per topic before consumed ones are dropped. */
  retainPerTopic?: number;
  log?: Logger;
}

type WireRecord = ReturnType<typeof toKafkaRecord>;
type DeadLetterInfo = Omit<DeadLetter, 'event'>;

interface Entry {
  offset: number;
  seq: number;
  record: WireRecord;
  dead?: DeadLetterInfo;
}

/** One partition's retained entries: offsets [start, end). */
class PartitionLog {
  private entries: Entry[] = [];
  private base = 0;
  private head = 0;

  get start(): number {
    return this.base + this.head;
  }
  get end(): number {
    return this.base + this.entries.length;
  }
  append(seq: number, record: WireRecord, dead?: DeadLetterInfo): void {
    this.entries.push({ offset: this.end, seq, record, ...(dead ? { dead } : {}) });
  }
  get(offset: number): Entry | undefined {
    return offset >= this.start ? this.entries[offset - this.base] : undefined;
  }
  retained(): Entry[] {
    return this.entries.slice(this.head);
  }
  /** Drops entries below `offset`; returns how many. */
  dropBefore(offset: number): number {
    const n = Math.max(0, Math.min(offset, this.end) - this.start);
    this.head += n;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
    return n;
  }
}

interface Member {
  handler: BusHandler;
  policy: DeliveryPolicy;
  abort: AbortController;
  inflight: Set<Promise<unknown>>;
}

interface Group {
  name: string;
  /** Next offset to deliver, per partition (the committed offset). */
  next: number[];
  running: boolean[];
  members: Member[];
}

interface TopicState {
  name: string;
  logs: PartitionLog[];
  groups: Map<string, Group>;
  warnedOverBound: boolean;
}

export class MemoryBus implements EventSink {
  private readonly topics = new Map<string, TopicState>();
  private readonly partitions: number;
  private readonly retainPerTopic: number;
  private readonly log: Logger;
  private readonly idleWaiters = new Set<() => void>();
  private readonly subscriptions = new Set<BusSubscription>();
  private seq = 0;

  constructor(opts: MemoryBusOptions = {}) {
    this.partitions = opts.partitions ?? TOPIC_PARTITIONS;
    this.retainPerTopic = opts.retainPerTopic ?? 10_000;
    this.log = opts.log ?? createLogger('memory-bus');
  }

  /**
   * Appends the event to its catalog topic (validated as a KafkaSink would);
   * delivery happens asynchronously, so emitting from a handler is safe.
   * @example await bus.emit(createEvent('parley.message.send', data, { source: 'gateway' }))
   */
  async emit(event: ParleyEvent): Promise<void> {
    if (!isEventType(event.type))
      throw new ParleyError('bad_request', `unknown event type ${event.type}`);
    const record = toKafkaRecord(event);
    fromKafkaRecord(record);
    this.append(CATALOG[event.type].topic, record);
  }

  /**
   * Delivers every event of `topic` to `handler` within consumer group `group`.
   * @example bus.subscribe({ topic: TOPICS.messageCommands, group: 'message-write', handler })
   */
  subscribe(opts: BusSubscribeOptions): BusSubscription {
    if (!opts.topic || !opts.group)
      throw new ParleyError('bad_request', 'subscribe needs a topic and a group');
    const topic = this.topic(opts.topic);
    let group = topic.groups.get(opts.group);
    if (!group) {
      const next = topic.logs.map((l) => l.start);
      group = { name: opts.group, next, running: next.map(() => false), members: [] };
      topic.groups.set(opts.group, group);
    }
    const member: Member = {
      handler: opts.handler,
      policy: {
        retry: opts.retry ?? DEFAULT_DELIVERY.retry,
        backoffPolicy: opts.backoffPolicy ?? DEFAULT_DELIVERY.backoffPolicy ?? 'linear',
        backoffDelayMs: opts.backoffDelayMs ?? DEFAULT_DELIVERY.backoffDelayMs,
        backoffMaxMs: opts.backoffMaxMs ?? DEFAULT_DELIVERY.backoffMaxMs,
      },
      abort: new AbortController(),
      inflight: new Set(),
    };
    group.members.push(member);
    const g = group;
    for (let p = 0; p < this.partitions; p++) this.kick(topic, g, p);
    const sub: BusSubscription = {
      close: async () => {
        this.subscriptions.delete(sub);
        g.members = g.members.filter((m) => m !== member);
        member.abort.abort();
        await Promise.allSettled([...member.inflight]);
        // Partitions it held move to the remaining members, if any.
        for (let p = 0; p < this.partitions; p++) this.kick(topic, g, p);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  /** The dead letters of `topic` (what its dead-letter topic holds), oldest first. */
  deadLetters(topic: string): DeadLetter[] {
    const dlq = this.topics.get(deadLetterTopic(topic));
    if (!dlq) return [];
    return dlq.logs
      .flatMap((l) => l.retained())
      .sort((a, b) => a.seq - b.seq)
      .map((e) => ({ event: fromKafkaRecord(e.record), ...(e.dead as DeadLetterInfo) }));
  }

  /** Events `topic` currently retains. */
  retained(topic: string): number {
    const t = this.topics.get(topic);
    return t ? t.logs.reduce((n, l) => n + (l.end - l.start), 0) : 0;
  }

  /** Resolves when every subscribed group has handled everything emitted so far (tests, shutdown). */
  async idle(): Promise<void> {
    while (!this.isIdle()) {
      await new Promise<void>((resolve) => this.idleWaiters.add(resolve));
    }
  }

  /** Closes every subscription, waiting for in-flight deliveries. */
  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }

  private isIdle(): boolean {
    for (const t of this.topics.values()) {
      for (const g of t.groups.values()) {
        if (g.running.some(Boolean)) return false;
        if (g.members.length && t.logs.some((l, p) => (g.next[p] as number) < l.end)) return false;
      }
    }
    return true;
  }

  private topic(name: string): TopicState {
    let t = this.topics.get(name);
    if (!t) {
      const logs = Array.from({ length: this.partitions }, () => new PartitionLog());
      t = { name, logs, groups: new Map(), warnedOverBound: false };
      this.topics.set(name, t);
    }
    return t;
  }

  private append(topicName: string, record: WireRecord, dead?: DeadLetterInfo): void {
    const topic = this.topic(topicName);
    const p = fnv1a32(record.key) % this.partitions;
    (topic.logs[p] as PartitionLog).append(this.seq++, record, dead);
    this.trim(topic);
    for (const g of topic.groups.values()) this.kick(topic, g, p);
  }

  /** Starts the (group, partition) worker unless it runs or nobody listens; never synchronously. */
  private kick(topic: TopicState, group: Group, p: number): void {
    if (group.running[p] || group.members.length === 0) return;
    const log = topic.logs[p] as PartitionLog;
    if ((group.next[p] as number) >= log.end) return;
    group.running[p] = true;
    queueMicrotask(() => void this.drain(topic, group, p));
  }

  private async drain(topic: TopicState, group: Group, p: number): Promise<void> {
    const log = topic.logs[p] as PartitionLog;
    try {
      for (;;) {
        const member = group.members[p % Math.max(1, group.members.length)];
        const entry = log.get(group.next[p] as number);
        if (!member || !entry) return;
        const delivery = this.deliver(topic, group, member, entry);
        member.inflight.add(delivery);
        const settled = await delivery.finally(() => member.inflight.delete(delivery));
        if (!settled) continue; // its subscriber closed mid-retry: another member (or a later one) gets it
        group.next[p] = entry.offset + 1;
        this.trim(topic);
      }
    } catch (err) {
      this.log.error(
        { err, topic: topic.name, group: group.name, partition: p },
        'memory bus worker failed',
      );
    } finally {
      group.running[p] = false;
      for (const w of [...this.idleWaiters]) {
        this.idleWaiters.delete(w);
        w();
      }
    }
  }

  /** True once the entry is done with (handled or dead-lettered); false if the member closed first. */
  private async deliver(
    topic: TopicState,
    group: Group,
    member: Member,
    entry: Entry,
  ): Promise<boolean> {
    const event = fromKafkaRecord(entry.record);
    const ctx = {
      topic: topic.name,
      group: group.name,
      ceId: event.id,
      ceType: event.type,
      key: event.partitionkey,
    };
    for (let attempt = 1; ; attempt++) {
      if (member.abort.signal.aborted) return false;
      try {
        // A fresh copy per attempt, as from the wire: a handler cannot mutate what others see.
        await member.handler(attempt === 1 ? event : fromKafkaRecord(entry.record));
        return true;
      } catch (err) {
        const e = asParleyError(err);
        if (!e.retriable || attempt > member.policy.retry) {
          this.log.warn(
            { ...ctx, code: e.code, reason: e.message, attempts: attempt },
            'event dead-lettered',
          );
          const dead = {
            topic: topic.name,
            group: group.name,
            code: e.code,
            reason: e.message,
            attempts: attempt,
          };
          this.append(deadLetterTopic(topic.name), entry.record, dead);
          return true;
        }
        this.log.warn({ ...ctx, err, code: e.code, attempt }, 'event failed; will be retried');
        if (!(await sleep(backoffMs(attempt, member.policy), member.abort.signal))) return false;
      }
    }
  }

  /** Keeps the topic within its bound by dropping the oldest events every group has consumed. */
  private trim(topic: TopicState): void {
    let excess = this.retained(topic.name) - this.retainPerTopic;
    if (excess <= 0) return;
    topic.logs.forEach((log, p) => {
      if (excess <= 0) return;
      let consumedByAll = log.end;
      for (const g of topic.groups.values())
        consumedByAll = Math.min(consumedByAll, g.next[p] as number);
      excess -= log.dropBefore(Math.min(consumedByAll, log.start + excess));
    });
    if (excess > 0 && !topic.warnedOverBound) {
      topic.warnedOverBound = true;
      this.log.warn(
        { topic: topic.name, bound: this.retainPerTopic },
        'topic retains more than its bound: a group is behind',
      );
    }
  }
}
