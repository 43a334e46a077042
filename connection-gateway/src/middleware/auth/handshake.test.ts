/**
 * The WebSocket handshake refuses a token of a user who does not exist, on a real port: the
 * same check as the HTTP API (verifyUser), 401 for no such user, 503 while the users function
 * cannot say.
 */
import { MemoryFanout } from '@parley/eventing';
import { createLogger, createTokenService, serviceClient } from '@parley/runtime';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GatewayLimitsSchema } from '../../config';
import { type Gateway, startGateway } from '../../server';

const tokens = createTokenService('x'.repeat(32));
const usersDown = { now: false };
const users = new Hono().get('/internal/users', (c) => {
  if (usersDown.now) return c.json({ error: { code: 'unavailable', message: 'down' } }, 503);
  const ids = (c.req.query('ids') ?? '').split(',').filter((id) => id === 'u_alice');
  return c.json({ users: ids.map((id) => ({ id, username: 'alice', displayName: 'alice' })) });
});
const rooms = new Hono().get('/internal/users/:id/room-ids', (c) => c.json({ roomIds: [] }));
const stub = (app: Hono) => serviceClient('http://stub.test', async (r) => app.fetch(r));

let gateway: Gateway;
let wsUrl: string;
beforeAll(async () => {
  gateway = await startGateway(
    {
      tokens,
      commands: { emit: async () => undefined },
      fanout: new MemoryFanout(),
      isMember: async () => true,
      users: stub(users),
      rooms: stub(rooms),
      notifications: stub(new Hono()),
      messages: stub(new Hono()),
      search: stub(new Hono()),
      log: createLogger('test', 'silent'),
      registry: new Registry(),
      limits: GatewayLimitsSchema.parse({ DRAIN_TIMEOUT_MS: '200' }),
      allowedOrigins: [],
    },
    { port: 0, host: '127.0.0.1' },
  );
  wsUrl = `${gateway.url.replace(/^http/, 'ws')}/ws`;
});
afterAll(() => gateway?.drain());

/** The handshake's HTTP status (101 when accepted) and, when refused, its error body. */
function handshake(token: string): Promise<{ status: number; body?: string }> {
  const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  return new Promise((resolve, reject) => {
    ws.once('upgrade', () => {
      ws.terminate();
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

describe('WebSocket handshake and users who do not exist', () => {
  it('accepts a valid token of an existing user', async () => {
    expect((await handshake(await tokens.sign({ id: 'u_alice', username: 'alice' }))).status).toBe(
      101,
    );
  });

  it('refuses a valid token of a user who does not exist with 401 unknown user', async () => {
    const ghost = await tokens.sign({ id: 'u_ghost', username: 'ghost' });
    const res = await handshake(ghost);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body ?? '{}')).toEqual({
      error: { code: 'unauthorized', message: 'unknown user' },
    });
  });

  it('refuses a token with an empty subject with 401', async () => {
    expect((await handshake(await tokens.sign({ id: '', username: 'alice' }))).status).toBe(401);
  });

  it('answers 503 while the users function cannot say (a client retries; it is not logged out)', async () => {
    usersDown.now = true;
    try {
      const stranger = await tokens.sign({ id: 'u_new', username: 'new' });
      expect((await handshake(stranger)).status).toBe(503);
    } finally {
      usersDown.now = false;
    }
  });
});
