import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createLogger } from '@parley/runtime';
import { infraEnv, REPO_ROOT, runId } from '@parley/tests/support/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../catalog';
import { fromKafkaRecord, toHttpBinary } from '../cloudevent';
import { messageSend, waitFor } from '../testing';
import { createKafka, ensureTopics, topicEndOffsets } from './kafka';
import { readRecords } from './kafka-testing';

const { KAFKA_BROKERS } = infraEnv();
const log = createLogger('kafka-sink-real-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'kafka-sink-real-test', log });
const topic = TOPICS.messageCommands;

let child: ChildProcess;
let url: string;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

beforeAll(async () => {
  // The sink produces to the catalog's own topics: on a fresh broker they must exist first.
  await ensureTopics(kafka);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--import', 'tsx', 'eventing/src/kafka-sink.main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS,
      PORT: String(port),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitFor(
    async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200,
    20_000,
    'sink ready',
  );
});

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('KafkaSink stand-in (real Kafka)', () => {
  it('produces a posted binary-mode event to its catalog topic, keyed by its partition key', async () => {
    const event = messageSend(`r_${runId()}`);
    const from = await topicEndOffsets(kafka, topic);
    const { headers, body } = toHttpBinary(event);
    const res = await fetch(`${url}/`, { method: 'POST', headers, body });
    expect(res.status).toBe(202);
    const records = await readRecords(kafka, {
      topic,
      from,
      until: (rs) => rs.some((r) => r.headers.ce_id?.toString() === event.id),
    });
    const mine = records.filter((r) => r.headers.ce_id?.toString() === event.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.key?.toString()).toBe(event.partitionkey);
    expect(fromKafkaRecord(mine[0] as (typeof mine)[number])).toEqual(event);
  });

  it('accepts structured mode too', async () => {
    const event = messageSend(`r_${runId()}`);
    const from = await topicEndOffsets(kafka, topic);
    const res = await fetch(`${url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(202);
    const records = await readRecords(kafka, {
      topic,
      from,
      until: (rs) => rs.some((r) => r.headers.ce_id?.toString() === event.id),
    });
    expect(records.filter((r) => r.key?.toString() === event.partitionkey)).toHaveLength(1);
  });

  it('refuses an invalid event with 400 and produces nothing for it', async () => {
    const roomId = `r_${runId()}`;
    const from = await topicEndOffsets(kafka, topic);
    const invalid = toHttpBinary(messageSend(roomId));
    const bad = await fetch(`${url}/`, {
      method: 'POST',
      headers: invalid.headers,
      body: '{"roomId":"x"}',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'bad_request' } });
    // A valid event of the same key afterwards: once it is read, anything produced before it would have been too.
    const marker = messageSend(roomId);
    const ok = toHttpBinary(marker);
    expect(
      (await fetch(`${url}/`, { method: 'POST', headers: ok.headers, body: ok.body })).status,
    ).toBe(202);
    const records = await readRecords(kafka, {
      topic,
      from,
      until: (rs) => rs.some((r) => r.headers.ce_id?.toString() === marker.id),
    });
    expect(
      records.filter((r) => r.key?.toString() === roomId).map((r) => r.headers.ce_id?.toString()),
    ).toEqual([marker.id]);
  });

  it('stops gracefully on SIGTERM', async () => {
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
  });
});
