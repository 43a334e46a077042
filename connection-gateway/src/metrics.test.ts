/**
 * The gateway's metrics, read from its registry after real traffic on a real port: the HTTP
 * API's RED metrics, frames in and out, handshake refusals, fan-out deliveries and the send →
 * deliver latency. The rest of Parley is stubbed (memory fan-out, stub functions), as in
 * server.test.ts.
 */
import { MemoryFanout, roomChannel } from '@parley/eventing';
import type { Message } from '@parley/protocol';
import { createLogger, createTokenService, serviceClient } from '@parley/runtime';
import { seriesValue } from '@parley/tests/support/metrics';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GatewayLimitsSchema } from './config';
import { type Gateway, startGateway } from './server';

const tokens = createTokenService('x'.repeat(32));
const stub = (app: Hono) => serviceClient('http://stub.test', async (r) => app.fetch(r));
/** Every user is in room r_1 (of 3 members: a small room). */
const rooms = new Hono().get('/internal/users/:id/room-ids', (c) =>
  c.json({ roomIds: ['r_1'], memberCounts: { r_1: 3 } }),
);
// Every user a token names exists; `/api/v1/me` answers who asks.
const users = new Hono()
  .get('/internal/users', (c) =>
    c.json({
      users: (c.req.query('ids') ?? '')
        .split(',')
        .map((id) => ({ id, username: id, displayName: id })),
    }),
  )
  .get('/api/v1/me', (c) => c.json({ id: 'u_a' }));
const nothing = new Hono();

const running: Gateway[] = [];
const opened: WebSocket[] = [];
afterEach(async () => {
  for (const ws of opened.splice(0)) ws.terminate();
  await Promise.all(running.splice(0).map((g) => g.drain()));
});

async function gateway(env: Record<string, string> = {}) {
  const fanout = new MemoryFanout();
  const registry = new Registry();
  const g = await startGateway(
    {
      tokens,
      commands: { emit: async () => undefined },
      fanout,
      isMember: async () => true,
      users: stub(users),
      rooms: stub(rooms),
      notifications: stub(new Hono()),
      messages: stub(nothing),
      search: stub(nothing),
      log: createLogger('test', 'silent'),
      registry,
      limits: GatewayLimitsSchema.parse({ DRAIN_TIMEOUT_MS: '200', ...env }),
      allowedOrigins: [],
    },
    { port: 0, host: '127.0.0.1' },
  );
  running.push(g);
  return { g, fanout, registry, ws: `${g.url.replace(/^http/, 'ws')}/ws` };
}

const tokenOf = (userId: string) => tokens.sign({ id: userId, username: userId });

/** A client: the frames it got, in order; resolves once `ready` came. */
async function client(url: string): Promise<{ ws: WebSocket; frames: { type: string }[] }> {
  const ws = new WebSocket(url);
  opened.push(ws);
  const frames: { type: string }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await until(() => frames.some((f) => f.type === 'ready'));
  return { ws, frames };
}

/** The status a handshake is refused with (101 if it is not). */
function handshake(url: string): Promise<number> {
  const ws = new WebSocket(url);
  opened.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('upgrade', () => resolve(101));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

const message = (seq: number): Message => ({
  id: `m_${seq}`,
  roomId: 'r_1',
  seq,
  senderId: 'u_c',
  body: 'hi',
  ts: 1,
  clientMsgId: `c${seq}`,
});

describe('gateway metrics', () => {
  it('counts fan-out deliveries per socket and observes send → deliver once per message with sentAt', async () => {
    const { fanout, registry, ws } = await gateway();
    const a = await client(`${ws}?token=${await tokenOf('u_a')}`);
    const b = await client(`${ws}?token=${await tokenOf('u_b')}`);
    const messagesOf = (c: { frames: { type: string }[] }) =>
      c.frames.filter((f) => f.type === 'message').length;

    // Made 1.5 s before this gateway writes it (the sender's gateway's clock: sentAt).
    const sentAt = new Date(Date.now() - 1_500).toISOString();
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(1), sentAt });
    await until(() => messagesOf(a) === 1 && messagesOf(b) === 1);
    expect(
      await seriesValue(registry, 'parley_gateway_fanout_deliveries_total', { kind: 'message' }),
    ).toBe(2);
    expect(
      await seriesValue(registry, 'parley_gateway_frames_out_total', { type: 'message' }),
    ).toBe(2);
    // Once for the gateway, not once per socket.
    const count = 'parley_gateway_send_deliver_seconds_count';
    const sum = 'parley_gateway_send_deliver_seconds_sum';
    expect(await seriesValue(registry, 'parley_gateway_send_deliver_seconds', {}, count)).toBe(1);
    expect(
      await seriesValue(registry, 'parley_gateway_send_deliver_seconds', {}, sum),
    ).toBeGreaterThanOrEqual(1.5);

    // Without sentAt (an older writer): delivered and counted, no latency observed.
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(2) });
    await until(() => messagesOf(a) === 2 && messagesOf(b) === 2);
    expect(
      await seriesValue(registry, 'parley_gateway_fanout_deliveries_total', { kind: 'message' }),
    ).toBe(4);
    expect(await seriesValue(registry, 'parley_gateway_send_deliver_seconds', {}, count)).toBe(1);

    // `ready` went to each socket once.
    expect(await seriesValue(registry, 'parley_gateway_frames_out_total', { type: 'ready' })).toBe(
      2,
    );
  });

  it('counts client frames by their protocol type, and junk as invalid', async () => {
    const { registry, ws } = await gateway();
    const a = await client(`${ws}?token=${await tokenOf('u_a')}`);
    a.ws.send(JSON.stringify({ type: 'ping', ref: 1 }));
    a.ws.send(JSON.stringify({ type: 'ping', ref: 2 }));
    a.ws.send('not json');
    a.ws.send(JSON.stringify({ type: 'teleport' }));
    await until(() => a.frames.filter((f) => f.type === 'error').length === 2);
    await until(() => a.frames.filter((f) => f.type === 'pong').length === 2);
    const framesIn = (type: string) =>
      seriesValue(registry, 'parley_gateway_frames_in_total', { type });
    expect(await framesIn('ping')).toBe(2);
    expect(await framesIn('invalid')).toBe(2);
    expect(await framesIn('teleport')).toBe(0);
    expect(await seriesValue(registry, 'parley_gateway_frames_out_total', { type: 'pong' })).toBe(
      2,
    );
    expect(await seriesValue(registry, 'parley_gateway_frames_out_total', { type: 'error' })).toBe(
      2,
    );
    expect(await registry.metrics()).not.toContain('teleport');
  });

  it('counts handshake refusals by reason', async () => {
    const { registry, ws } = await gateway({ MAX_SOCKETS_PER_USER: '1' });
    const token = await tokenOf('u_a');
    await client(`${ws}?token=${token}`);
    expect(await handshake(`${ws}?token=${token}`)).toBe(429);
    expect(await handshake(`${ws}?token=nonsense`)).toBe(401);
    expect(await handshake(`${ws.replace(/\/ws$/, '/elsewhere')}?token=${token}`)).toBe(404);
    const refused = (reason: string) =>
      seriesValue(registry, 'parley_gateway_handshakes_refused_total', { reason });
    expect(await refused('user_cap')).toBe(1);
    expect(await refused('unauthorized')).toBe(1);
    expect(await refused('not_found')).toBe(1);
    expect(await refused('address_cap')).toBe(0);
    expect(await seriesValue(registry, 'parley_gateway_handshakes_total', { outcome: 'ok' })).toBe(
      1,
    );
  });

  it('counts the HTTP API by route pattern and status, not the probes', async () => {
    const { g, registry } = await gateway();
    const auth = { authorization: `Bearer ${await tokenOf('u_a')}` };
    expect((await fetch(`${g.url}/api/v1/me`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${g.url}/api/v1/me`)).status).toBe(401);
    expect((await fetch(`${g.url}/api/v1/rooms/r_1/nothing`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    const requests = (route: string, code: string) =>
      seriesValue(registry, 'parley_http_requests_total', { route, method: 'GET', code });
    expect(await requests('/api/v1/me', '200')).toBe(1);
    expect(await requests('/api/v1/me', '401')).toBe(1);
    expect(await requests('unmatched', '404')).toBe(1);
    expect(await registry.metrics()).not.toMatch(/parley_http_requests_total\{[^}]*healthz/);
  });
});
