import { createServer, type Server, type Socket } from 'node:net';
import { createLogger } from '@parley/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createKafka, createRecordProducer } from './kafka';

/** A "broker" that accepts connections and never answers: a restarted broker's half-open socket. */
async function blackHole(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0, sockets };
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe('the record producer against a broker that stops answering', () => {
  it('fails each batch at its deadline instead of waiting forever, and keeps taking sends', async () => {
    const hole = await blackHole();
    const kafka = createKafka({
      brokers: `127.0.0.1:${hole.port}`,
      clientId: 'test',
      log: createLogger('test', 'silent'),
    });
    const producer = createRecordProducer(kafka, { deadlineMs: 300 });
    cleanup = async () => {
      for (const s of hole.sockets) s.destroy();
      await new Promise((r) => hole.server.close(r));
    };
    const record = { key: 'k', value: '{}', headers: {} };
    await expect(producer.send('t', record)).rejects.toThrow(/no answer from Kafka in 300 ms/);
    // The next send is not stuck behind the first: it gets its own deadline on a fresh producer.
    await expect(producer.send('t', record)).rejects.toThrow(/no answer from Kafka in 300 ms/);
    expect(hole.sockets.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses at once past its queue bound rather than queueing without end', async () => {
    const hole = await blackHole();
    const kafka = createKafka({
      brokers: `127.0.0.1:${hole.port}`,
      clientId: 'test',
      log: createLogger('test', 'silent'),
    });
    const producer = createRecordProducer(kafka, { deadlineMs: 300, maxQueued: 2 });
    cleanup = async () => {
      for (const s of hole.sockets) s.destroy();
      await new Promise((r) => hole.server.close(r));
    };
    const record = { key: 'k', value: '{}', headers: {} };
    // The first is taken into a batch at once; two more wait in the queue; the fourth is refused.
    const first = producer.send('t', record);
    const queued = [producer.send('t', record), producer.send('t', record)];
    await expect(producer.send('t', record)).rejects.toThrow(/already wait for Kafka/);
    await Promise.allSettled([first, ...queued]);
  });
});
