/**
 * The KafkaSource stand-in as a process: consumes SOURCE_TOPICS in
 * CONSUMER_GROUP and POSTs each record to SINK_URL as a CloudEvent.
 *   KAFKA_BROKERS=127.0.0.1:9092 SOURCE_TOPICS=parley.message.commands CONSUMER_GROUP=message-write \
 *   SINK_URL=http://127.0.0.1:8081/ npx tsx eventing/src/kafka-source.main.ts
 * SIGTERM/SIGINT: finish in-flight deliveries, leave the group, exit 0.
 */
import { serve } from '@hono/node-server';
import { createLogger, createMetricsRegistry, loadConfig, mountOps } from '@parley/runtime';
import { startTracing, stopTracing } from '@parley/runtime/tracing';
import { Hono } from 'hono';
import { KafkaSourceConfig } from './kafka/config';
import { createConsumerLagMonitor } from './kafka/consumer-lag';
import { createKafka, createOffsetsAdmin } from './kafka/kafka';
import { createKafkaSource } from './kafka/kafka-source';
import { onShutdown } from './shutdown';

const cfg = loadConfig(KafkaSourceConfig);
// One Jaeger service for every source; the span names say which function it delivers to.
startTracing('kafka-source', cfg);
const name = `kafka-source-${cfg.CONSUMER_GROUP}`;
const log = createLogger(name);
const registry = createMetricsRegistry('kafka-source');
const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: name, log });
const source = createKafkaSource({
  kafka,
  topics: cfg.SOURCE_TOPICS,
  group: cfg.CONSUMER_GROUP,
  sinkUrl: cfg.SINK_URL,
  retry: cfg.DELIVERY_RETRY,
  backoffPolicy: cfg.DELIVERY_BACKOFF_POLICY,
  backoffDelayMs: cfg.DELIVERY_BACKOFF_DELAY_MS,
  backoffMaxMs: cfg.DELIVERY_BACKOFF_MAX_MS,
  timeoutMs: cfg.DELIVERY_TIMEOUT_MS,
  sessionTimeoutMs: cfg.CONSUMER_SESSION_TIMEOUT_MS,
  fromBeginning: cfg.INITIAL_OFFSET === 'earliest',
  ordering: cfg.DELIVERY_ORDERING,
  maxPollRecords: cfg.MAX_POLL_RECORDS,
  fetchLingerMs: cfg.FETCH_LINGER_MS,
  registry,
  log,
});
// Read from Kafka, not counted here: it keeps reporting while deliveries are stuck.
const lag = createConsumerLagMonitor({
  admin: () => createOffsetsAdmin(kafka),
  group: cfg.CONSUMER_GROUP,
  topics: cfg.SOURCE_TOPICS,
  registry,
  log,
  intervalMs: cfg.LAG_POLL_MS,
});

let server: ReturnType<typeof serve> | undefined;
if (cfg.PORT) {
  const app = new Hono();
  mountOps(app, { registry, ready: () => source.isReady() });
  server = serve({ fetch: app.fetch, port: cfg.PORT, hostname: cfg.HOST });
}

onShutdown(log, async () => {
  await lag.stop();
  await source.stop();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await stopTracing();
});

try {
  await source.start();
  lag.start(); // after start(), which creates missing topics
} catch (err) {
  log.fatal({ err }, 'kafka source failed to start');
  process.exit(1);
}
