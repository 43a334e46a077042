/**
 * The local stand-in for a Knative KafkaSource: a consumer group reads topics
 * and POSTs each record as a binary-mode CloudEvent to a sink.
 *
 * - Order (`spec.ordering`, the two modes Knative offers): `ordered` posts one
 *   record at a time per partition, partitions in parallel; `unordered` posts
 *   records as they are read, up to `max.poll.records` (50) in flight at once,
 *   answered in any order.
 * - At least once: an offset is committed only after the sink answered 2xx
 *   (or the record went to the dead-letter topic), and under unordered
 *   delivery only up to the partition's lowest record still in flight, as
 *   Knative's dispatcher does; a crash redelivers.
 * - Retries (network error, timeout, 408, 429, 5xx) with exponential or linear backoff.
 * - Dead letters: a refused record (other 4xx), one still failing after the
 *   retries, or one that is not a valid CloudEvent of the catalog is produced
 *   unchanged (key, value, headers) to `<topic>.dlq`, with Knative's
 *   `ce_knativeerrorcode`, `ce_knativeerrordest` and `ce_knativeerrordata`
 *   (base64 of the first 1024 bytes of the response body) headers; then the
 *   partition moves on, so a poison record never blocks it.
 */
import { asParleyError, eventLogFields, failpoint, type Logger } from '@parley/runtime';
import {
  currentTraceparent,
  inSpan,
  markFailed,
  type Span,
  SpanKind,
  tracingOn,
} from '@parley/runtime/tracing';
import { Counter, Histogram, type Registry } from 'prom-client';
import { deadLetterTopic } from '../catalog';
import { type AnyParleyEvent, fromKafkaRecord } from '../cloudevent';
import {
  backoffMs,
  DEFAULT_DELIVERY,
  DEFAULT_MAX_POLL_RECORDS,
  type DeliveryOrdering,
  type DeliveryPolicy,
  sleep,
} from '../delivery-policy';
import { deliverHttp, ERROR_DATA_MAX_BYTES } from './http-delivery';
import {
  type ConsumedRecord,
  createRecordConsumer,
  createRecordProducer,
  ensureTopics,
  type KafkaClient,
  type OutgoingRecord,
  type RecordOutcome,
} from './kafka';

export interface KafkaSourceOptions extends Partial<DeliveryPolicy> {
  kafka: KafkaClient;
  topics: readonly string[];
  group: string;
  sinkUrl: string;
  log: Logger;
  /** Per delivery attempt; default 30 s. */
  timeoutMs?: number;
  /** Consumer session; a crashed member's partitions move after this long. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Where a new group starts: earliest (default) or latest. */
  fromBeginning?: boolean;
  /** Create missing source topics and their dead-letter topics at start (default true). */
  createTopics?: boolean;
  /** Knative's `spec.ordering`; default ordered (Knative's default for a KafkaSource). */
  ordering?: DeliveryOrdering;
  /** Unordered only: records in flight at most (Knative's `max.poll.records`, default 50). */
  maxPollRecords?: number;
  /** Unordered only: pause after a small fetch so records gather (`RecordConsumerOptions.fetchLingerMs`). */
  fetchLingerMs?: number;
  /** Prometheus registry for delivered / retried / dead-lettered counters and a latency histogram. */
  registry?: Registry;
  fetchImpl?: typeof fetch;
}

export interface KafkaSource {
  start(): Promise<void>;
  /** Finishes in-flight deliveries (pending retries are left for redelivery), leaves the group, disconnects. */
  stop(): Promise<void>;
  /** True while the consumer holds a group assignment. */
  isReady(): boolean;
}

export interface DeadLetterReason {
  /** HTTP status of the last attempt; absent when there was no response. */
  status?: number;
  sinkUrl: string;
  data: string;
}

/** The original record plus Knative's dead-letter extension headers. */
export function deadLetterRecord(record: ConsumedRecord, why: DeadLetterReason): OutgoingRecord {
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(record.headers)) if (v !== undefined) headers[k] = v;
  if (why.status !== undefined) headers.ce_knativeerrorcode = String(why.status);
  headers.ce_knativeerrordest = why.sinkUrl;
  headers.ce_knativeerrordata = Buffer.from(why.data)
    .subarray(0, ERROR_DATA_MAX_BYTES)
    .toString('base64');
  return { key: record.key, value: record.value, headers };
}

function metricsOf(registry: Registry | undefined) {
  if (!registry) return undefined;
  const get = <M>(name: string, make: () => M): M =>
    (registry.getSingleMetric(name) as M | undefined) ?? make();
  const labelNames = ['group', 'topic'] as const;
  return {
    delivered: get(
      'parley_source_delivered_total',
      () =>
        new Counter({
          name: 'parley_source_delivered_total',
          help: 'Records delivered (2xx)',
          labelNames,
          registers: [registry],
        }),
    ),
    retried: get(
      'parley_source_retried_total',
      () =>
        new Counter({
          name: 'parley_source_retried_total',
          help: 'Delivery retries',
          labelNames,
          registers: [registry],
        }),
    ),
    deadLettered: get(
      'parley_source_dead_lettered_total',
      () =>
        new Counter({
          name: 'parley_source_dead_lettered_total',
          help: 'Records sent to the dead-letter topic, by reason (refused, exhausted, invalid)',
          labelNames: [...labelNames, 'reason'],
          registers: [registry],
        }),
    ),
    latency: get(
      'parley_source_delivery_seconds',
      () =>
        new Histogram({
          name: 'parley_source_delivery_seconds',
          help: 'From first attempt to the final outcome of one record',
          labelNames,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers: [registry],
        }),
    ),
  };
}

/**
 * @example
 * const source = createKafkaSource({ kafka, topics: [TOPICS.messageCommands], group: 'message-write',
 *   sinkUrl: 'http://127.0.0.1:8081/', log });
 * await source.start();
 */
export function createKafkaSource(opts: KafkaSourceOptions): KafkaSource {
  const policy: DeliveryPolicy = {
    retry: opts.retry ?? DEFAULT_DELIVERY.retry,
    backoffPolicy: opts.backoffPolicy ?? DEFAULT_DELIVERY.backoffPolicy ?? 'linear',
    backoffDelayMs: opts.backoffDelayMs ?? DEFAULT_DELIVERY.backoffDelayMs,
    backoffMaxMs: opts.backoffMaxMs ?? DEFAULT_DELIVERY.backoffMaxMs,
  };
  const log = opts.log.child({ group: opts.group });
  const metrics = metricsOf(opts.registry);
  const producer = createRecordProducer(opts.kafka);

  /** Produces to the dead-letter topic, retrying until Kafka takes it or we stop. */
  async function deadLetter(
    record: ConsumedRecord,
    why: DeadLetterReason,
    signal: AbortSignal,
  ): Promise<boolean> {
    const out = deadLetterRecord(record, why);
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send(deadLetterTopic(record.topic), out);
        return true;
      } catch (err) {
        log.error(
          { err, topic: record.topic, partition: record.partition, offset: record.offset },
          'dead-letter produce failed',
        );
        if (!(await sleep(backoffMs(attempt, policy), signal))) return false;
      }
    }
  }

  async function handle(record: ConsumedRecord, signal: AbortSignal): Promise<RecordOutcome> {
    if (signal.aborted) return 'leave';
    const where = { topic: record.topic, partition: record.partition, offset: record.offset };
    const labels = { group: opts.group, topic: record.topic };
    let event: AnyParleyEvent;
    try {
      event = fromKafkaRecord(record);
    } catch (err) {
      const e = asParleyError(err);
      log.warn({ ...where, reason: e.message }, 'invalid record dead-lettered');
      if (
        !(await deadLetter(record, { status: 400, sinkUrl: opts.sinkUrl, data: e.message }, signal))
      )
        return 'leave';
      metrics?.deadLettered.inc({ ...labels, reason: 'invalid' });
      return 'commit';
    }
    // Only a retry or a dead letter logs: a child logger per delivered event is measurable CPU.
    const elog = () => log.child({ ...where, ...eventLogFields(event) });
    const started = performance.now();
    const deliver = async (span: Span | undefined) => {
      const traceparent = currentTraceparent(span);
      if (traceparent) event.traceparent = traceparent;
      const r = await deliverHttp(event, {
        ...policy,
        // The record's value went through fromKafkaRecord's checks: post it unchanged.
        ...(record.value !== null ? { body: record.value.toString() } : {}),
        sinkUrl: opts.sinkUrl,
        timeoutMs: opts.timeoutMs ?? 30_000,
        signal,
        ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
        onRetry: (attempt, reason) => {
          metrics?.retried.inc(labels);
          elog().warn({ attempt, reason }, 'delivery failed; will be retried');
        },
      });
      if (r.outcome === 'dead-letter') markFailed(span, `dead-lettered: ${r.data.slice(0, 200)}`);
      return r;
    };
    // The delivery continues the trace of the record (its `ce_traceparent` header) and hands the
    // function this span as the event's traceparent. Untraced, nothing of it is built.
    const result = tracingOn()
      ? await inSpan(
          `deliver to ${opts.group}`,
          {
            kind: SpanKind.CONSUMER,
            parent: event.traceparent,
            attributes: {
              'messaging.system': 'kafka',
              'messaging.destination.name': record.topic,
              'messaging.consumer.group.name': opts.group,
              'messaging.destination.partition.id': String(record.partition),
              'messaging.kafka.offset': Number(record.offset),
              'cloudevents.event_id': event.id,
            },
          },
          deliver,
        )
      : await deliver(undefined);
    if (result.outcome === 'aborted') return 'leave';
    // Delivered (or refused), offset not yet committed: a crash here redelivers.
    await failpoint('kafka-source.before-commit');
    if (result.outcome === 'dead-letter') {
      const reason = result.retriable ? 'exhausted' : 'refused';
      elog().warn(
        { status: result.status, attempts: result.attempts, reason },
        'event dead-lettered',
      );
      const why = {
        sinkUrl: opts.sinkUrl,
        data: result.data,
        ...(result.status ? { status: result.status } : {}),
      };
      if (!(await deadLetter(record, why, signal))) return 'leave';
      metrics?.deadLettered.inc({ ...labels, reason });
    } else {
      metrics?.delivered.inc(labels);
    }
    metrics?.latency.observe(labels, (performance.now() - started) / 1000);
    return 'commit';
  }

  const consumer = createRecordConsumer(opts.kafka, {
    group: opts.group,
    topics: opts.topics,
    fromBeginning: opts.fromBeginning ?? true,
    ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
    ordering: opts.ordering ?? 'ordered',
    maxInFlight: opts.maxPollRecords ?? DEFAULT_MAX_POLL_RECORDS,
    ...(opts.fetchLingerMs !== undefined ? { fetchLingerMs: opts.fetchLingerMs } : {}),
    handle,
  });

  return {
    async start() {
      if (opts.createTopics ?? true) await ensureTopics(opts.kafka, opts.topics);
      await consumer.start();
      log.info(
        {
          topics: opts.topics,
          sinkUrl: opts.sinkUrl,
          ordering: opts.ordering ?? 'ordered',
          ...policy,
        },
        'kafka source started',
      );
    },
    async stop() {
      await consumer.stop();
      await producer.close();
      log.info('kafka source stopped');
    },
    isReady: () => consumer.isJoined(),
  };
}
