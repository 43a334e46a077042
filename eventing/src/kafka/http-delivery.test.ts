import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fromHttp } from '../cloudevent';
import { backoffMs } from '../delivery-policy';
import { messageSend } from '../testing';
import { deliverHttp, type HttpDeliveryOptions, isRetriableStatus } from './http-delivery';

/** A fake sink answering from a script of statuses (or thrown errors), recording what it got. */
function scriptedFetch(script: Array<number | Error>, body = 'nope') {
  const calls: Request[] = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push(new Request(url, init));
    const next = script.length > 1 ? script.shift() : script[0];
    if (next instanceof Error) throw next;
    return new Response(next === 202 ? null : body, { status: next });
  }) as typeof fetch;
  return { impl, calls };
}

const opts = (
  fetchImpl: typeof fetch,
  over: Partial<HttpDeliveryOptions> = {},
): HttpDeliveryOptions => ({
  sinkUrl: 'http://sink.test/',
  timeoutMs: 1000,
  retry: 3,
  backoffDelayMs: 1,
  backoffMaxMs: 2,
  fetchImpl,
  ...over,
});

describe('deliverHttp', () => {
  it('posts the event in binary content mode', async () => {
    const event = messageSend('r_1');
    const { impl, calls } = scriptedFetch([202]);
    expect(await deliverHttp(event, opts(impl))).toEqual({
      outcome: 'delivered',
      status: 202,
      attempts: 1,
    });
    const req = calls[0] as Request;
    expect(req.method).toBe('POST');
    expect(req.headers.get('ce-id')).toBe(event.id);
    expect(fromHttp(req.headers, await req.text())).toEqual(event);
  });

  it('retries a 503, a 429, a 408 and a network error, then succeeds', async () => {
    const { impl, calls } = scriptedFetch([503, 429, 408, new TypeError('fetch failed'), 200]);
    const retries: number[] = [];
    const r = await deliverHttp(
      messageSend('r_1'),
      opts(impl, { retry: 5, onRetry: (n) => retries.push(n) }),
    );
    expect(r).toEqual({ outcome: 'delivered', status: 200, attempts: 5 });
    expect(calls).toHaveLength(5);
    expect(retries).toEqual([1, 2, 3, 4]);
  });

  it('gives up at once on a 400, with the response body', async () => {
    const { impl, calls } = scriptedFetch([400], '{"error":{"code":"bad_request"}}');
    const r = await deliverHttp(messageSend('r_1'), opts(impl));
    expect(r).toEqual({
      outcome: 'dead-letter',
      status: 400,
      data: '{"error":{"code":"bad_request"}}',
      attempts: 1,
      retriable: false,
    });
    expect(calls).toHaveLength(1);
  });

  it('gives up after 1 + retry attempts on a sink that keeps failing', async () => {
    const { impl, calls } = scriptedFetch([500]);
    const r = await deliverHttp(messageSend('r_1'), opts(impl, { retry: 2 }));
    expect(r).toMatchObject({ outcome: 'dead-letter', status: 500, attempts: 3, retriable: true });
    expect(calls).toHaveLength(3);
  });

  it('an unreachable sink is dead-lettered without a status', async () => {
    const { impl } = scriptedFetch([new TypeError('fetch failed')]);
    const r = await deliverHttp(messageSend('r_1'), opts(impl, { retry: 1 }));
    expect(r).toMatchObject({ outcome: 'dead-letter', attempts: 2 });
    expect(r).not.toHaveProperty('status');
    expect((r as { data: string }).data).toMatch(/fetch failed/);
  });

  it('truncates a long error body to 1024 bytes', async () => {
    const { impl } = scriptedFetch([400], 'x'.repeat(5000));
    const r = await deliverHttp(messageSend('r_1'), opts(impl));
    expect((r as { data: string }).data).toHaveLength(1024);
  });

  it('stops waiting for a retry when aborted', async () => {
    const { impl, calls } = scriptedFetch([503]);
    const abort = new AbortController();
    const pending = deliverHttp(
      messageSend('r_1'),
      opts(impl, { backoffDelayMs: 60_000, backoffMaxMs: 60_000, signal: abort.signal }),
    );
    while (calls.length === 0) await new Promise((r) => setImmediate(r));
    abort.abort();
    expect(await pending).toEqual({ outcome: 'aborted', attempts: 1 });
  });

  it('classifies statuses like the delivery spec', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetriableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 413].some(isRetriableStatus)).toBe(false);
  });

  it('backs off exponentially up to the cap', () => {
    const p = { retry: 10, backoffDelayMs: 200, backoffMaxMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, p))).toEqual([200, 400, 800, 1000, 1000]);
  });
});

/** A loopback sink: `respond` answers each POST; counts the TCP connections it accepted. */
async function loopbackSink(
  respond: (req: IncomingMessage, body: string, res: ServerResponse) => void,
) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => respond(req, Buffer.concat(chunks).toString(), res));
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  closers.push(close);
  return { url: `http://127.0.0.1:${port}/`, connections: () => connections, close };
}
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const real = (sinkUrl: string, over: Partial<HttpDeliveryOptions> = {}): HttpDeliveryOptions => ({
  sinkUrl,
  timeoutMs: 2000,
  retry: 3,
  backoffDelayMs: 1,
  backoffMaxMs: 2,
  ...over,
});

describe('deliverHttp over node:http (what the stand-in runs)', () => {
  it('posts binary mode and reuses one kept-alive connection for one delivery after another', async () => {
    const got: ReturnType<typeof fromHttp>[] = [];
    const sink = await loopbackSink((req, body, res) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      got.push(fromHttp(headers, body));
      res.writeHead(202).end();
    });
    const events = [0, 1, 2, 3].map((n) => messageSend('r_1', n));
    for (const e of events)
      expect(await deliverHttp(e, real(sink.url))).toEqual({
        outcome: 'delivered',
        status: 202,
        attempts: 1,
      });
    expect(got).toEqual(events);
    expect(sink.connections()).toBe(1);
  });

  it('retries a 503, and dead-letters a 400 with the first 1024 bytes of its body', async () => {
    let n = 0;
    const sink = await loopbackSink((_req, body, res) => {
      n++;
      if (body.includes('"c-0"')) res.writeHead(n === 1 ? 503 : 202).end();
      else res.writeHead(400).end('y'.repeat(5000));
    });
    expect(await deliverHttp(messageSend('r_1', 0), real(sink.url))).toEqual({
      outcome: 'delivered',
      status: 202,
      attempts: 2,
    });
    expect(await deliverHttp(messageSend('r_1', 1), real(sink.url))).toEqual({
      outcome: 'dead-letter',
      status: 400,
      data: 'y'.repeat(1024),
      attempts: 1,
      retriable: false,
    });
  });

  it('a sink that does not answer in time, or is not there, is retried, then dead-lettered without a status', async () => {
    const silent = await loopbackSink(() => undefined);
    const late = await deliverHttp(
      messageSend('r_1'),
      real(silent.url, { timeoutMs: 50, retry: 1 }),
    );
    expect(late).toMatchObject({ outcome: 'dead-letter', attempts: 2, retriable: true });
    expect(late).not.toHaveProperty('status');
    expect((late as { data: string }).data).toMatch(/no answer within 50 ms/);

    const gone = await loopbackSink(() => undefined);
    await gone.close();
    const refused = await deliverHttp(messageSend('r_1'), real(gone.url, { retry: 1 }));
    expect(refused).toMatchObject({ outcome: 'dead-letter', attempts: 2, retriable: true });
    expect((refused as { data: string }).data).toMatch(/ECONNREFUSED/);
  });
});
