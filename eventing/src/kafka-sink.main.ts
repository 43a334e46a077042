/**
 * The KafkaSink stand-in as a process: POST a CloudEvent to / and it is
 * produced to its catalog topic (202 once Kafka acknowledged it).
 *   KAFKA_BROKERS=127.0.0.1:9092 PORT=8090 npx tsx eventing/src/kafka-sink.main.ts
 * SINK_TOPIC pins it to one topic like a Knative KafkaSink. SIGTERM/SIGINT:
 * stop taking requests, finish the ones in flight, disconnect, exit 0.
 */
import { serve } from '@hono/node-server';
import { createLogger, createMetricsRegistry, loadConfig, recordColdStart } from '@parley/runtime';
import { startTracing, stopTracing } from '@parley/runtime/tracing';
import { Histogram } from 'prom-client';
import { KafkaSinkConfig } from './kafka/config';
import { createKafka, ensureTopics, kafkaEventSink } from './kafka/kafka';
import { createKafkaSinkApp } from './kafka/kafka-sink';
import { onShutdown } from './shutdown';

const cfg = loadConfig(KafkaSinkConfig);
startTracing('kafka-sink', cfg);
const log = createLogger('kafka-sink');
const registry = createMetricsRegistry('kafka-sink');
const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'kafka-sink', log });
const batchSize = new Histogram({
  name: 'parley_sink_produce_batch_records',
  help: 'Records per produce request (the POSTs that shared one)',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 500],
  registers: [registry],
});
const sink = kafkaEventSink(kafka, {
  lingerMs: cfg.PRODUCE_LINGER_MS,
  onBatch: (n) => batchSize.observe(n),
});

try {
  await ensureTopics(kafka);
  await sink.connect();
} catch (err) {
  log.fatal({ err }, 'kafka sink cannot reach Kafka');
  process.exit(1);
}

let draining = false;
const app = createKafkaSinkApp({
  sink,
  log,
  registry,
  ready: () => !draining && sink.isConnected(),
  ...(cfg.SINK_TOPIC ? { topic: cfg.SINK_TOPIC } : {}),
});
const server = serve({ fetch: app.fetch, port: cfg.PORT, hostname: cfg.HOST }, (info) => {
  recordColdStart(registry); // Kafka connected, serving port listening (runtime/src/cold-start.ts)
  log.info({ port: info.port, host: cfg.HOST }, 'kafka sink listening');
});

onShutdown(log, async () => {
  draining = true;
  await new Promise((resolve) => server.close(resolve));
  await sink.close();
  await stopTracing();
});
