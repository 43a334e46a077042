/**
 * Test helpers over real Kafka: read what a topic holds (from the start, or
 * from offsets taken before the test acted) until a condition holds.
 */
import { randomBytes } from 'node:crypto';
import {
  type ConsumedRecord,
  createRecordConsumer,
  type KafkaClient,
  topicEndOffsets,
} from './kafka';

export interface ReadRecordsOptions {
  topic: string;
  /** Stop once this holds for what was read. */
  until: (records: ConsumedRecord[]) => boolean;
  /** From these offsets (e.g. `await topicEndOffsets(kafka, topic)` taken earlier); default: the beginning. */
  from?: Map<number, string>;
  timeoutMs?: number;
}

/**
 * @example const dlq = await readRecords(kafka, { topic: deadLetterTopic(t), until: (r) => r.length === 2 })
 */
export async function readRecords(
  kafka: KafkaClient,
  opts: ReadRecordsOptions,
): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  let done!: () => void;
  const reached = new Promise<void>((resolve) => {
    done = resolve;
  });
  const consumer = createRecordConsumer(kafka, {
    group: `reader-${randomBytes(6).toString('hex')}`,
    topics: [opts.topic],
    startOffsets: [...(opts.from ?? new Map())].map(([partition, offset]) => ({
      topic: opts.topic,
      partition,
      offset,
    })),
    handle: async (r) => {
      records.push(r);
      if (opts.until(records)) done();
      return 'leave';
    },
  });
  await consumer.start();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (!opts.until(records)) {
      await Promise.race([
        reached,
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `readRecords(${opts.topic}): condition not met in ${timeoutMs} ms; read ${records.length}`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    }
    return records;
  } finally {
    clearTimeout(timer);
    await consumer.stop();
  }
}

export { topicEndOffsets };
