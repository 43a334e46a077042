/**
 * Creates every topic of the catalog and its dead-letter topic, unless it
 * exists (idempotent; run before the sources and sinks start).
 *   KAFKA_BROKERS=127.0.0.1:9092 npx tsx eventing/src/kafka-topics.main.ts
 */
import { createLogger, loadConfig } from '@parley/runtime';
import { z } from 'zod';
import { TOPIC_PARTITIONS, TOPICS } from './catalog';
import { createKafka, ensureTopics } from './kafka/kafka';

const cfg = loadConfig(
  z.object({
    KAFKA_BROKERS: z.string().min(1),
    TOPIC_PARTITIONS: z.coerce.number().int().min(1).default(TOPIC_PARTITIONS),
  }),
);
const log = createLogger('kafka-topics');
const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'kafka-topics', log });
try {
  const created = await ensureTopics(kafka, Object.values(TOPICS), cfg.TOPIC_PARTITIONS);
  log.info(
    { created, partitions: cfg.TOPIC_PARTITIONS },
    created.length ? 'topics created' : 'topics already exist',
  );
} catch (err) {
  log.fatal({ err }, 'cannot create topics');
  process.exit(1);
}
