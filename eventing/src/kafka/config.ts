/**
 * Environment of the two eventing processes, validated once at start
 * (`loadConfig(KafkaSourceConfig)`): a bad value stops the process with a
 * message naming the variable.
 */
import { TracingConfigSchema } from '@parley/runtime/tracing';
import { z } from 'zod';
import { DEFAULT_MAX_POLL_RECORDS } from '../delivery-policy';
import { DEFAULT_LAG_POLL_MS } from './consumer-lag';

const list = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1, 'needs at least one topic'));
const int = (min: number) => z.coerce.number().int().min(min);

export const KafkaSourceConfig = z.object({
  KAFKA_BROKERS: z.string().min(1),
  /** Comma-separated. */
  SOURCE_TOPICS: list,
  CONSUMER_GROUP: z.string().min(1),
  SINK_URL: z.url(),
  // DEFAULT_DELIVERY (eventing/src/delivery-policy.ts): 3.5 minutes of retries, linear from 1 s.
  DELIVERY_RETRY: int(0).default(20),
  DELIVERY_BACKOFF_POLICY: z.enum(['exponential', 'linear']).default('linear'),
  DELIVERY_BACKOFF_DELAY_MS: int(1).default(1_000),
  DELIVERY_BACKOFF_MAX_MS: int(1).default(20_000),
  DELIVERY_TIMEOUT_MS: int(1).default(30_000),
  /** Kafka's group.min.session.timeout.ms is 6 s by default. */
  CONSUMER_SESSION_TIMEOUT_MS: int(6_000).default(30_000),
  INITIAL_OFFSET: z.enum(['earliest', 'latest']).default('earliest'),
  /** Knative's `spec.ordering`: the deployment table says which for each source. */
  DELIVERY_ORDERING: z.enum(['ordered', 'unordered']).default('ordered'),
  /** Unordered delivery: records in flight at most (Knative's `max.poll.records`, 50 by default). */
  MAX_POLL_RECORDS: int(1).default(DEFAULT_MAX_POLL_RECORDS),
  /**
   * Unordered delivery: after a fetch of a few records, wait this long before the next, so that at
   * a trickle several records share one (kafkajs spends ~2 ms of CPU per fetch). Latency, not order
   * or delivery, changes; an idle topic is long-polled as ever.
   */
  FETCH_LINGER_MS: int(0).default(50),
  /** Between two reads of the group's consumer lag from Kafka (`parley_kafka_consumer_lag`). */
  LAG_POLL_MS: int(100).default(DEFAULT_LAG_POLL_MS),
  /** If set, /healthz /readyz /metrics are served on it. */
  PORT: int(1).max(65_535).optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  ...TracingConfigSchema.shape,
});
export type KafkaSourceConfig = z.infer<typeof KafkaSourceConfig>;

export const KafkaSinkConfig = z.object({
  KAFKA_BROKERS: z.string().min(1),
  PORT: int(1).max(65_535),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Pin the sink to one topic, like a Knative KafkaSink. */
  SINK_TOPIC: z.string().min(1).optional(),
  /**
   * Producer linger: how long a POST that finds the producer idle waits for others to share its
   * produce request; 0 (default) waits one turn of the event loop. Every POST is still answered
   * only once Kafka acknowledged its record.
   */
  PRODUCE_LINGER_MS: int(0).default(0),
  ...TracingConfigSchema.shape,
});
export type KafkaSinkConfig = z.infer<typeof KafkaSinkConfig>;
