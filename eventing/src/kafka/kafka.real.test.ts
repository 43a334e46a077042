import { createLogger } from '@parley/runtime';
import { infraEnv, runId } from '@parley/tests/support/infra';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOG, deadLetterTopic, TOPICS } from '../catalog';
import { createEvent, fromKafkaRecord, toKafkaRecord } from '../cloudevent';
import {
  createKafka,
  createRecordProducer,
  deleteTopics,
  ensureTopics,
  growTopics,
  kafkaEventSink,
  partitionCount,
  topicEndOffsets,
} from './kafka';
import { readRecords } from './kafka-testing';

const log = createLogger('kafka-real-test', process.env.TEST_LOG_LEVEL ?? 'warn');
const kafka = createKafka({ brokers: infraEnv().KAFKA_BROKERS, clientId: 'kafka-real-test', log });
const sink = kafkaEventSink(kafka);

const created: string[] = [];
afterAll(async () => {
  await sink.close();
  await deleteTopics(kafka, created);
});

describe('Kafka binding (real Kafka)', () => {
  it('ensureTopics creates every catalog topic and its dead-letter topic, idempotently', async () => {
    await ensureTopics(kafka);
    expect(await ensureTopics(kafka)).toEqual([]);
    const all = Object.values(TOPICS).flatMap((t) => [t, deadLetterTopic(t)]);
    expect(await partitionCount(kafka, all)).toBeGreaterThanOrEqual(all.length);
  });

  it('ensureTopics creates a fresh topic with the asked partitions, and is safe to race', async () => {
    const topic = `t.${runId()}.fresh`;
    const results = await Promise.all([
      ensureTopics(kafka, [topic], 3),
      ensureTopics(kafka, [topic], 3),
    ]);
    expect(results.flat()).toContain(topic);
    created.push(topic, deadLetterTopic(topic));
    expect(await partitionCount(kafka, [topic])).toBe(3);
    expect(await partitionCount(kafka, [deadLetterTopic(topic)])).toBe(3);
  });

  it('growTopics raises a topic and its dead-letter topic to the asked partitions, never shrinks, and is safe to race', async () => {
    const topic = `t.${runId()}.grow`;
    created.push(...(await ensureTopics(kafka, [topic], 2)));
    const grown = await Promise.all([growTopics(kafka, [topic], 5), growTopics(kafka, [topic], 5)]);
    expect(grown.flat()).toContain(topic);
    expect(await partitionCount(kafka, [topic])).toBe(5);
    expect(await partitionCount(kafka, [deadLetterTopic(topic)])).toBe(5);
    expect(await growTopics(kafka, [topic], 5)).toEqual([]);
    expect(await growTopics(kafka, [topic], 3)).toEqual([]);
    expect(await partitionCount(kafka, [topic])).toBe(5);
  });

  it('an event emitted through kafkaEventSink reads back equal from its catalog topic, keyed by its partition key', async () => {
    await ensureTopics(kafka);
    const roomId = `r_${runId()}`;
    const event = createEvent(
      'parley.message.send',
      { actorId: 'u_1', roomId, clientMsgId: 'c-1', body: '한국어 body', acceptedTs: Date.now() },
      { source: 'gateway', causationid: 'cause-1' },
    );
    const topic = CATALOG[event.type].topic;
    const from = await topicEndOffsets(kafka, topic);
    await sink.emit(event);
    const records = await readRecords(kafka, {
      topic,
      from,
      until: (rs) => rs.some((r) => r.key?.toString() === roomId),
    });
    const mine = records.filter((r) => r.key?.toString() === roomId);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.headers.ce_type?.toString()).toBe('parley.message.send');
    expect(fromKafkaRecord(mine[0] as (typeof mine)[number])).toEqual(event);
  });

  it('records of one key keep their order through a real topic', async () => {
    const topic = `t.${runId()}.order`;
    created.push(...(await ensureTopics(kafka, [topic], 3)));
    const producer = createRecordProducer(kafka);
    const roomId = `r_${runId()}`;
    const sent = Array.from({ length: 30 }, (_, n) =>
      createEvent(
        'parley.message.send',
        { actorId: 'u_1', roomId, clientMsgId: `c-${n}`, body: `m${n}`, acceptedTs: n },
        { source: 'test' },
      ),
    );
    await Promise.all(sent.map((e) => producer.send(topic, toKafkaRecord(e))));
    await producer.close();
    const records = await readRecords(kafka, { topic, until: (rs) => rs.length === sent.length });
    // Concurrent sends on one producer still arrive in call order: maxInFlightRequests = 1.
    expect(records.map((r) => fromKafkaRecord(r).id)).toEqual(sent.map((e) => e.id));
  });

  it('lingers: sends a few ms apart share one produce request, each resolved once Kafka has it', async () => {
    const topic = `t.${runId()}.linger`;
    created.push(...(await ensureTopics(kafka, [topic], 3)));
    const spaced = async (producer: ReturnType<typeof createRecordProducer>) => {
      const roomId = `r_${runId()}`;
      const sends: Promise<void>[] = [];
      for (let n = 0; n < 4; n++) {
        const e = createEvent(
          'parley.message.send',
          { actorId: 'u_1', roomId, clientMsgId: `c-${n}`, body: `m${n}`, acceptedTs: n },
          { source: 'test' },
        );
        sends.push(producer.send(topic, toKafkaRecord(e)));
        await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(sends);
      return roomId;
    };
    const eager: number[] = [];
    const atOnce = createRecordProducer(kafka, { onBatch: (n) => eager.push(n) });
    await atOnce.connect();
    await spaced(atOnce);
    await atOnce.close();
    // Without a linger the first send goes alone.
    expect(eager[0]).toBe(1);
    expect(eager.reduce((a, b) => a + b, 0)).toBe(4);

    const lingered: number[] = [];
    const patient = createRecordProducer(kafka, {
      lingerMs: 500,
      onBatch: (n) => lingered.push(n),
    });
    await patient.connect();
    const roomId = await spaced(patient);
    await patient.close();
    expect(lingered).toEqual([4]);
    // Resolved means stored: all four are in the topic.
    const records = await readRecords(kafka, {
      topic,
      until: (rs) => rs.filter((r) => r.key?.toString() === roomId).length === 4,
    });
    expect(records.filter((r) => r.key?.toString() === roomId)).toHaveLength(4);
  });
});
