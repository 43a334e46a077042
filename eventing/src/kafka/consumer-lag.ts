/**
 * Consumer lag of one group, polled from Kafka rather than counted by the consumer: the
 * KafkaSource stand-in's deliveries can be stuck for minutes (its function down, retries backing
 * off), and it is exactly then that the lag must keep being reported. Every `intervalMs` an admin
 * client reads the group's committed offsets and each partition's end offset (high watermark):
 *
 * - `parley_kafka_consumer_lag{group,topic,partition}` = end − committed; a partition the group
 *   never committed on lags by end − start (everything retained is unread), like kafka_exporter's
 *   `kafka_consumergroup_lag`. Each poll replaces the group's set: a partition gone is removed.
 *   While polls fail the last values stay;
 * - `parley_kafka_consumer_committed_offset{group,topic,partition}` = the group's committed offset
 *   (-1 where it never committed), like kafka_exporter's `kafka_consumergroup_current_offset`:
 *   whether it moves is what tells a stalled group (ParleyConsumerStalled) from a slow one;
 * - `parley_kafka_consumer_lag_poll_errors_total{group}` counts the failed polls.
 */
import { type Logger, metricOnce } from '@parley/runtime';
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { OffsetsAdmin } from './kafka';

export const DEFAULT_LAG_POLL_MS = 5_000;

export interface ConsumerLagOptions {
  /** Makes an admin client (`() => createOffsetsAdmin(kafka)`); a fresh one after a failed poll. */
  admin: () => OffsetsAdmin;
  group: string;
  topics: readonly string[];
  registry: Registry;
  log: Logger;
  /** Between the end of one poll and the start of the next; default 5 s (`LAG_POLL_MS`). */
  intervalMs?: number;
  /** At most one "poll failed" warning this often (default 60 s); the ones skipped are counted in the next. */
  warnEveryMs?: number;
  /** Clock of the warning rate limit (tests). */
  now?: () => number;
}

export interface ConsumerLagMonitor {
  /** Polls now, then every `intervalMs` (an unref'd timer: it keeps no process alive). */
  start(): void;
  /**
   * One poll now, or the one under way; never rejects. True if it read the lag, false if it
   * failed or the monitor was stopped.
   */
  poll(): Promise<boolean>;
  /** Stops polling and disconnects the admin client; the gauge keeps its last values. */
  stop(): Promise<void>;
}

/**
 * The lag of one partition: records at or after the group's position and before the end.
 * `committed` is `'-1'` when the group has none there; never negative (a topic recreated under
 * an old commit would otherwise show a negative lag).
 */
export function partitionLag(p: { committed: string; low: string; high: string }): number {
  const committed = BigInt(p.committed);
  const from = committed < 0n ? BigInt(p.low) : committed;
  const lag = BigInt(p.high) - from;
  return lag > 0n ? Number(lag) : 0;
}

function metricsOf(registry: Registry) {
  // Shared by every monitor on the registry (a process may watch more than one group).
  const get = <M extends Metric>(name: string, make: () => M): M =>
    metricOnce(registry, name, make);
  return {
    lag: get(
      'parley_kafka_consumer_lag',
      () =>
        new Gauge({
          name: 'parley_kafka_consumer_lag',
          help: "Records not yet consumed: partition end offset minus the group's committed offset",
          labelNames: ['group', 'topic', 'partition'] as const,
          registers: [registry],
        }),
    ),
    committed: get(
      'parley_kafka_consumer_committed_offset',
      () =>
        new Gauge({
          name: 'parley_kafka_consumer_committed_offset',
          help: "The group's committed offset on the partition (-1: never committed)",
          labelNames: ['group', 'topic', 'partition'] as const,
          registers: [registry],
        }),
    ),
    errors: get(
      'parley_kafka_consumer_lag_poll_errors_total',
      () =>
        new Counter({
          name: 'parley_kafka_consumer_lag_poll_errors_total',
          help: 'Consumer lag polls that failed (the lag gauge then holds its last values)',
          labelNames: ['group'] as const,
          registers: [registry],
        }),
    ),
  };
}

/**
 * @example
 * const lag = createConsumerLagMonitor({ admin: () => createOffsetsAdmin(kafka), group: 'message-write',
 *   topics: ['parley.message.commands'], registry, log });
 * lag.start(); // … await lag.stop();
 */
export function createConsumerLagMonitor(opts: ConsumerLagOptions): ConsumerLagMonitor {
  const intervalMs = opts.intervalMs ?? DEFAULT_LAG_POLL_MS;
  const warnEveryMs = opts.warnEveryMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const { group } = opts;
  const topics = [...opts.topics];
  const metrics = metricsOf(opts.registry);
  // Present from the start, so rate() and increase() see the first failure.
  metrics.errors.inc({ group }, 0);
  /** The label sets this monitor has set, by `topic:partition`. */
  let shown = new Map<string, { group: string; topic: string; partition: string }>();
  let admin: { client: OffsetsAdmin; connected: Promise<void> } | undefined;
  let running: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;
  let lastWarnAt = Number.NEGATIVE_INFINITY;
  let failedSinceWarn = 0;
  let failing = false;

  const dropAdmin = () => {
    const old = admin;
    admin = undefined;
    void old?.client.disconnect().catch(() => undefined);
  };

  const read = async () => {
    if (!admin) {
      const client = opts.admin();
      admin = { client, connected: client.connect() };
    }
    const { client, connected } = admin;
    await connected;
    const [committed, ends] = await Promise.all([
      client.fetchOffsets({ groupId: group, topics }),
      Promise.all(
        topics.map(async (topic) => ({ topic, ends: await client.fetchTopicOffsets(topic) })),
      ),
    ]);
    const position = new Map<string, string>();
    for (const t of committed)
      for (const p of t.partitions) position.set(`${t.topic}:${p.partition}`, p.offset);
    const next = new Map<
      string,
      {
        labels: { group: string; topic: string; partition: string };
        lag: number;
        committed: number;
      }
    >();
    for (const { topic, ends: parts } of ends)
      for (const p of parts) {
        const key = `${topic}:${p.partition}`;
        const committed = position.get(key) ?? '-1';
        const lag = partitionLag({ committed, low: p.low, high: p.high });
        next.set(key, {
          labels: { group, topic, partition: String(p.partition) },
          lag,
          committed: Math.max(-1, Number(committed)),
        });
      }
    return next;
  };

  const pollOnce = async (): Promise<boolean> => {
    let next: Awaited<ReturnType<typeof read>>;
    try {
      next = await read();
    } catch (err) {
      if (stopped) return false;
      // The admin may be wedged on a dead broker connection: the next poll starts afresh.
      dropAdmin();
      metrics.errors.inc({ group });
      failing = true;
      failedSinceWarn++;
      if (now() - lastWarnAt >= warnEveryMs) {
        opts.log.warn(
          { err, group, failedPolls: failedSinceWarn },
          'consumer lag poll failed; the lag gauge keeps its last values',
        );
        lastWarnAt = now();
        failedSinceWarn = 0;
      }
      return false;
    }
    if (stopped) return false;
    if (failing) opts.log.info({ group }, 'consumer lag poll recovered');
    failing = false;
    failedSinceWarn = 0;
    // Replaced in one synchronous step: a scrape sees the old set or the new one, never a mix.
    for (const [key, labels] of shown)
      if (!next.has(key)) {
        metrics.lag.remove(labels);
        metrics.committed.remove(labels);
      }
    for (const { labels, lag, committed } of next.values()) {
      metrics.lag.set(labels, lag);
      metrics.committed.set(labels, committed);
    }
    shown = new Map([...next].map(([key, v]) => [key, v.labels]));
    return true;
  };

  const poll = (): Promise<boolean> => {
    if (stopped) return Promise.resolve(false);
    running ??= pollOnce()
      .catch(() => false) // pollOnce catches everything; this keeps a timer's promise from ever rejecting
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void poll().finally(schedule), intervalMs);
    timer.unref();
  };

  return {
    start() {
      if (stopped || started) return;
      started = true;
      void poll().finally(schedule);
    },
    poll,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // A poll under way fails once its admin is gone; its result is dropped (stopped).
      const old = admin;
      admin = undefined;
      await old?.client.disconnect().catch(() => undefined);
    },
  };
}
