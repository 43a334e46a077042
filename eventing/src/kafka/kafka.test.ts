import { createServer, type Server, type Socket } from 'node:net';
import { createLogger } from '@parley/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createKafka, createRecordProducer, PartitionCommits } from './kafka';

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

describe('the commit position of an unordered partition', () => {
  it('is the lowest record taken and not handled, else one past the last taken', () => {
    const p = new PartitionCommits();
    expect(p.position()).toBeUndefined();
    for (const o of [10n, 11n, 12n, 13n]) p.take(o);
    expect(p.position()).toBe(10n);
    expect(p.handled(12n)).toBe(10n); // 10 and 11 are still out
    expect(p.handled(10n)).toBe(11n);
    expect(p.handled(13n)).toBe(11n);
    expect(p.handled(11n)).toBe(14n); // everything taken is handled
  });

  it('never passes a record left unhandled', () => {
    const p = new PartitionCommits();
    for (const o of [0n, 1n, 2n]) p.take(o);
    // 1 is left (the consumer stopping): it is never handled.
    expect(p.handled(0n)).toBe(1n);
    expect(p.handled(2n)).toBe(1n);
    p.take(3n);
    expect(p.handled(3n)).toBe(1n);
  });

  it('after a rebalance reads a partition again from its commit, both copies of a record must finish', () => {
    const p = new PartitionCommits();
    for (const o of [5n, 6n, 7n]) p.take(o);
    p.handled(5n);
    // Read again from offset 6 (its committed offset) while the first 6 and 7 are still out.
    p.take(6n);
    p.take(7n);
    expect(p.handled(6n)).toBe(6n); // the other copy of 6 is still out
    expect(p.handled(6n)).toBe(7n);
    expect(p.handled(7n)).toBe(7n);
    expect(p.handled(7n)).toBe(8n);
  });
});
