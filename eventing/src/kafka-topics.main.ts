/**
 * Creates every topic of the catalog and its dead-letter topic, unless it
 * exists, and grows one with fewer than TOPIC_PARTITIONS partitions
 * (idempotent; run before the sources and sinks start: growing moves keys to
 * other partitions, so nothing may be producing or waiting to be consumed).
 *   KAFKA_BROKERS=127.0.0.1:9092 npx tsx eventing/src/kafka-topics.main.ts
 */
import { createLogger, loadConfig } from '@parley/runtime';
import { z } from 'zod';
import { TOPIC_PARTITIONS, TOPICS } from './catalog';
import { createKafka, ensureTopics, growTopics } from './kafka/kafka';

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
  const grown = await growTopics(kafka, Object.values(TOPICS), cfg.TOPIC_PARTITIONS);
  if (grown.length)
    log.warn(
      { grown, partitions: cfg.TOPIC_PARTITIONS },
      'topics grown: their keys moved to other partitions; events of a key still waiting in its old partition may be delivered after newer ones',
    );
  log.info(
    { created, partitions: cfg.TOPIC_PARTITIONS },
    created.length ? 'topics created' : 'topics already exist',
  );
} catch (err) {
  log.fatal({ err }, 'cannot create topics');
  process.exit(1);
}
