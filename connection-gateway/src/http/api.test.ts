/**
 * The API's defences, driven through a real hono app with the HTTP functions stubbed: the
 * login and sign-up throttles (before the users function hashes anything), the per-address and
 * per-user rate limits, tokens of users who do not exist, and the history byte budget.
 */
import {
  createLogger,
  createMetricsRegistry,
  createTokenService,
  installErrorHandler,
  serviceClient,
} from '@parley/runtime';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { CommandWaiter } from '../commands';
import { type GatewayLimits, GatewayLimitsSchema } from '../config';
import type { GatewayDeps } from '../deps';
import { createApi, type HistoryByteBudget } from './api';

const tokens = createTokenService('x'.repeat(32));
const RIGHT = 'the right passphrase';

/** A users function that knows one user (u_alice / alice) and counts what it is asked. */
function usersStub() {
  const calls = { login: 0, signup: 0, lookup: 0 };
  const state = { down: false };
  const app = new Hono();
  const knownHeaders: (string | null)[] = [];
  app.post('/api/v1/auth/login', async (c) => {
    calls.login++;
    knownHeaders.push(c.req.header('x-parley-known-address') ?? null);
    if (state.down) {
      return c.json({ error: { code: 'unavailable', message: 'busy' } }, 503, {
        'retry-after': '1',
      });
    }
    const body = (await c.req.json()) as { username: string; password: string };
    if (body.username === 'alice' && body.password === RIGHT) {
      const user = { id: 'u_alice', username: 'alice', displayName: 'alice' };
      return c.json({ user, token: await tokens.sign(user) });
    }
    return c.json(
      { error: { code: 'unauthorized', message: 'invalid username or password' } },
      401,
    );
  });
  app.post('/api/v1/auth/signup', async (c) => {
    calls.signup++;
    const body = (await c.req.json()) as { password: string };
    if (body.password === 'password') {
      return c.json({ error: { code: 'weak_password', message: 'too common' } }, 400);
    }
    return c.json({ user: {}, token: 't' }, 201);
  });
  app.get('/api/v1/me', (c) => c.json({ user: { id: 'u_alice' } }));
  app.get('/api/v1/users', (c) => c.json({ users: [] }));
  app.get('/internal/users', (c) => {
    calls.lookup++;
    if (state.down) return c.json({ error: { code: 'unavailable', message: 'down' } }, 503);
    const ids = (c.req.query('ids') ?? '').split(',');
    return c.json({
      users: ids
        .filter((id) => id === 'u_alice' || id === 'u_bob')
        .map((id) => ({ id, username: id.slice(2), displayName: id.slice(2) })),
    });
  });
  return {
    client: serviceClient('http://users.test', async (r) => app.fetch(r)),
    calls,
    state,
    knownHeaders,
  };
}

function setup(limits: Partial<GatewayLimits> = {}, budgets?: HistoryByteBudget) {
  const clock = { now: 1_700_000_000_000 };
  const users = usersStub();
  const roomsCalls = { n: 0 };
  const rooms = new Hono();
  rooms.get('/api/v1/rooms', (c) => {
    roomsCalls.n++;
    return c.json({ rooms: [] });
  });
  const messages = new Hono();
  messages.get('/api/v1/rooms/:id/messages', (c) =>
    c.json({ messages: [{ body: 'x'.repeat(1000) }], hasMore: false }),
  );
  const deps = {
    tokens,
    users: users.client,
    rooms: serviceClient('http://rooms.test', async (r) => rooms.fetch(r)),
    messages: serviceClient('http://messages.test', async (r) => messages.fetch(r)),
    search: serviceClient('http://search.test', () => Promise.reject(new Error('unused'))),
    log: createLogger('test', 'silent'),
    registry: createMetricsRegistry('gateway-test'),
    limits: { ...GatewayLimitsSchema.parse({}), ...limits },
    allowedOrigins: [],
  } as unknown as GatewayDeps;
  const app = new Hono();
  const log = createLogger('test', 'silent');
  installErrorHandler(app, log);
  const now = () => clock.now;
  app.route('/api/v1', createApi(deps, {} as CommandWaiter, budgets ? { budgets, now } : { now }));

  /** A request from `address` (the socket's peer, as @hono/node-server reports it). */
  const request = (path: string, init: RequestInit & { from?: string } = {}) =>
    app.request(`/api/v1${path}`, init, {
      incoming: { socket: { remoteAddress: init.from ?? '203.0.113.7' } },
    });
  const post = (path: string, body: unknown, from?: string) =>
    request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(from ? { from } : {}),
    });
  const get = (path: string, token: string, from?: string) =>
    request(path, { headers: { authorization: `Bearer ${token}` }, ...(from ? { from } : {}) });
  return { users, roomsCalls, post, get, clock, registry: deps.registry };
}

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string; retryAfterMs?: number } }).error;

describe('login throttle at the gateway', () => {
  it('after five wrong passwords from one address, the next login is 429 + Retry-After without reaching the users function', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) {
      expect(
        (await t.post('/auth/login', { username: 'alice', password: `guess${i}` })).status,
      ).toBe(401);
    }
    expect(t.users.calls.login).toBe(5);
    const refused = await t.post('/auth/login', { username: 'alice', password: RIGHT });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    const error = await errorOf(refused);
    expect(error.code).toBe('rate_limited');
    expect(error.message).toMatch(/too many failed logins; try again in 1 s/);
    // Refused before any password was checked: the users function (and its scrypt) never saw it.
    expect(t.users.calls.login).toBe(5);
    t.clock.now += 1000;
    expect((await t.post('/auth/login', { username: 'alice', password: RIGHT })).status).toBe(200);
  });

  it('a thousand wrong passwords do not go through: all but five are refused without a hash', async () => {
    const t = setup();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const res = await t.post('/auth/login', { username: 'alice', password: `guess${i}` });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: 5, 429: 995 });
    expect(t.users.calls.login).toBe(5);
  });

  it('the owner logs in from their own address while a guesser is throttled on another', async () => {
    const t = setup();
    for (let i = 0; i < 8; i++) await t.post('/auth/login', { username: 'alice', password: 'x' });
    const owner = await t.post(
      '/auth/login',
      { username: 'alice', password: RIGHT },
      '198.51.100.1',
    );
    expect(owner.status).toBe(200);
  });

  it("passes a busy users function's 503 and Retry-After through, and counts it like an attempt", async () => {
    const t = setup({ LOGIN_FREE_FAILURES: 2 });
    t.users.state.down = true;
    for (let i = 0; i < 2; i++) {
      const res = await t.post('/auth/login', { username: 'alice', password: RIGHT });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    }
    // Not given back: a flood the users function sheds does not come straight back.
    expect((await t.post('/auth/login', { username: 'alice', password: RIGHT })).status).toBe(429);
    t.users.state.down = false;
    t.clock.now += 1000;
    expect((await t.post('/auth/login', { username: 'alice', password: RIGHT })).status).toBe(200);
  });

  it('tells the users function when the address has logged in to the account before', async () => {
    const t = setup();
    await t.post('/auth/login', { username: 'alice', password: RIGHT }, '198.51.100.1');
    await t.post('/auth/login', { username: 'alice', password: RIGHT }, '198.51.100.1');
    await t.post('/auth/login', { username: 'alice', password: RIGHT }, '203.0.113.9');
    expect(t.users.knownHeaders).toEqual([null, '1', null]);
  });

  it('an invalid login body goes to the users function for its 400, uncounted', async () => {
    const t = setup({ LOGIN_FREE_FAILURES: 1 });
    for (let i = 0; i < 3; i++) {
      expect((await t.post('/auth/login', { username: 'alice' })).status).not.toBe(429);
    }
  });
});

describe('sign-up throttle at the gateway', () => {
  it('allows SIGNUPS_PER_ADDRESS_PER_HOUR from one address, then 429 for an hour; refused bodies do not count', async () => {
    const t = setup({ SIGNUPS_PER_ADDRESS_PER_HOUR: 2 });
    expect((await t.post('/auth/signup', { username: 'a1', password: 'password' })).status).toBe(
      400,
    );
    expect((await t.post('/auth/signup', { username: 'a2', password: 'fine-one-1' })).status).toBe(
      201,
    );
    expect((await t.post('/auth/signup', { username: 'a3', password: 'fine-one-2' })).status).toBe(
      201,
    );
    const refused = await t.post('/auth/signup', { username: 'a4', password: 'fine-one-3' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3600');
    expect(t.users.calls.signup).toBe(3);
    const elsewhere = await t.post(
      '/auth/signup',
      { username: 'a5', password: 'fine-one-4' },
      '198.51.100.1',
    );
    expect(elsewhere.status).toBe(201);
  });
});

describe('HTTP rate limits', () => {
  it('per address: past the burst, 429 rate_limited with Retry-After; another address is unaffected', async () => {
    const t = setup({ RATE_HTTP_ADDRESS_PER_SEC: 1, RATE_HTTP_ADDRESS_BURST: 3 });
    const token = await tokens.sign({ id: 'u_alice', username: 'alice' });
    for (let i = 0; i < 3; i++) expect((await t.get('/me', token)).status).toBe(200);
    const refused = await t.get('/me', token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await errorOf(refused)).code).toBe('rate_limited');
    // Unauthenticated routes count too.
    expect((await t.post('/auth/login', { username: 'alice', password: RIGHT })).status).toBe(429);
    expect((await t.get('/me', token, '198.51.100.1')).status).toBe(200);
    expect(await t.registry.metrics()).toContain(
      'parley_gateway_http_refused_total{rule="address"',
    );
  });

  it('per user: one user on many addresses is limited as one', async () => {
    const t = setup({ RATE_HTTP_USER_PER_SEC: 1, RATE_HTTP_USER_BURST: 2 });
    const alice = await tokens.sign({ id: 'u_alice', username: 'alice' });
    const bob = await tokens.sign({ id: 'u_bob', username: 'bob' });
    expect((await t.get('/me', alice, '198.18.0.1')).status).toBe(200);
    expect((await t.get('/me', alice, '198.18.0.2')).status).toBe(200);
    expect((await t.get('/me', alice, '198.18.0.3')).status).toBe(429);
    expect((await t.get('/me', bob, '198.18.0.3')).status).toBe(200);
  });
});

describe('tokens of users who do not exist', () => {
  it('get 401 on every authenticated route, and reach no function', async () => {
    const t = setup();
    const ghost = await tokens.sign({ id: 'u_ghost', username: 'ghost' });
    for (const path of [
      '/me',
      '/users?q=a',
      '/rooms',
      '/rooms/r_1',
      '/rooms/r_1/messages',
      '/search?q=x',
    ]) {
      const res = await t.get(path, ghost);
      expect(res.status, path).toBe(401);
      expect(await errorOf(res)).toEqual({ code: 'unauthorized', message: 'unknown user' });
    }
    expect(t.roomsCalls.n).toBe(0);
  });

  it('a known user is looked up once, then served from the cache', async () => {
    const t = setup();
    const alice = await tokens.sign({ id: 'u_alice', username: 'alice' });
    for (let i = 0; i < 3; i++) expect((await t.get('/rooms', alice)).status).toBe(200);
    expect(t.users.calls.lookup).toBe(1);
  });

  it('get 503 unavailable, not 401, while the users function cannot say', async () => {
    const t = setup();
    t.users.state.down = true;
    const bob = await tokens.sign({ id: 'u_bob', username: 'bob' });
    const res = await t.get('/rooms', bob);
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe('unavailable');
  });
});

describe('history and the per-user byte budget', () => {
  it("counts a page's bytes against the budget and answers 429 when it is spent", async () => {
    const spent: number[] = [];
    const budget: HistoryByteBudget = {
      takeBytes: (_userId, bytes) => {
        spent.push(bytes);
        return spent.length < 2 ? { ok: true } : { ok: false, retryAfterMs: 1500 };
      },
    };
    const t = setup({}, budget);
    const alice = await tokens.sign({ id: 'u_alice', username: 'alice' });
    const page = await t.get('/rooms/r_1/messages', alice);
    expect(page.status).toBe(200);
    expect(((await page.json()) as { messages: unknown[] }).messages).toHaveLength(1);
    const refused = await t.get('/rooms/r_1/messages', alice);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(spent[0]).toBeGreaterThan(1000);
  });
});
