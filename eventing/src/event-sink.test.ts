import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ParleyError } from '@parley/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createEvent } from './cloudevent';
import { httpEventSink } from './event-sink';

const event = () =>
  createEvent(
    'parley.message.created',
    {
      message: {
        id: 'm_1',
        roomId: 'r_1',
        seq: 7,
        senderId: 'u_1',
        body: 'héllo',
        ts: 1_700_000_000_000,
        clientMsgId: 'c1',
      },
    },
    { source: 'message-write', id: 'm_1.created' },
  );

let server: Server | undefined;
afterEach(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
);

/** A loopback sink answering `status`; records what each POST carried. */
async function sink(status: number) {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(status).end(status >= 300 ? 'sink says no' : '');
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, got };
}

describe('httpEventSink', () => {
  it('POSTs the event in binary content mode and resolves on a 2xx', async () => {
    const { url, got } = await sink(202);
    await httpEventSink(url).emit(event());
    await httpEventSink(url).emit(event()); // a second emit on the kept-alive connection
    expect(got).toHaveLength(2);
    const [first] = got;
    expect(first?.headers['ce-type']).toBe('parley.message.created');
    expect(first?.headers['ce-id']).toBe('m_1.created');
    expect(first?.headers['ce-source']).toBe('/parley/message-write');
    expect(first?.headers['content-type']).toBe('application/json');
    expect(Number(first?.headers['content-length'])).toBe(Buffer.byteLength(first?.body ?? ''));
    expect(JSON.parse(first?.body ?? '')).toMatchObject({ message: { id: 'm_1', body: 'héllo' } });
  });

  it('throws a retriable error naming the status on a non-2xx', async () => {
    const { url } = await sink(503);
    const err = await httpEventSink(url)
      .emit(event())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect((err as ParleyError).code).toBe('unavailable');
    expect((err as Error).message).toContain('503');
    expect((err as Error).message).toContain('sink says no');
  });

  it('throws a retriable error when nothing listens', async () => {
    const { url } = await sink(200);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const err = await httpEventSink(url)
      .emit(event())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect((err as Error).message).toContain('unreachable');
  });
});
