import {
  createLogger,
  createTokenService,
  installErrorHandler,
  type ServiceClient,
  serviceClient,
} from '@parley/runtime';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { authenticate, requireAuth, tokenFromUpgrade, verifyUser } from './index';

const tokens = createTokenService('x'.repeat(32));

describe('requireAuth', () => {
  const app = new Hono();
  installErrorHandler(app, createLogger('test', 'silent'));
  app.get('/me', requireAuth(tokens), (c) => c.json({ userId: c.var.user.userId }));

  it('lets a valid bearer token through with its user', async () => {
    const token = await tokens.sign({ id: 'u_1', username: 'alice' });
    const res = await app.request('/me', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ userId: 'u_1' });
  });

  it('refuses a missing, forged or expired token with 401 unauthorized', async () => {
    const forged = await createTokenService('y'.repeat(32)).sign({ id: 'u_1', username: 'alice' });
    const expired = await createTokenService('x'.repeat(32), -10).sign({
      id: 'u_1',
      username: 'alice',
    });
    const cases: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${forged}` },
      { authorization: `Bearer ${expired}` },
      { authorization: 'Basic abc' },
    ];
    for (const headers of cases) {
      const res = await app.request('/me', { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
  });
});

/** A users function whose internal lookup knows `ids`; `down` makes it answer 503. */
function usersKnowing(ids: string[], state = { down: false }): ServiceClient {
  return serviceClient('http://users.test', async (req) => {
    if (state.down) return Response.json({ error: { code: 'unavailable' } }, { status: 503 });
    const asked = (new URL(req.url).searchParams.get('ids') ?? '').split(',');
    return Response.json({
      users: asked
        .filter((id) => ids.includes(id))
        .map((id) => ({ id, username: id, displayName: id })),
    });
  });
}

describe('authenticate (the gateway: a valid token of a user who exists)', () => {
  const state = { down: false };
  const deps = { tokens, users: usersKnowing(['u_1'], state) };
  const app = new Hono();
  installErrorHandler(app, createLogger('test', 'silent'));
  app.get('/rooms', authenticate(deps), (c) => c.json({ userId: c.var.user.userId }));
  const get = async (token: string) => {
    const res = await app.request('/rooms', { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('lets a valid token of an existing user through', async () => {
    const token = await tokens.sign({ id: 'u_1', username: 'alice' });
    expect(await get(token)).toEqual({ status: 200, body: { userId: 'u_1' } });
  });

  it('refuses a valid token of a user who does not exist with 401', async () => {
    const ghost = await tokens.sign({ id: 'u_ghost', username: 'ghost' });
    expect(await get(ghost)).toEqual({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'unknown user' } },
    });
  });

  it('refuses a token with an empty subject with 401', async () => {
    // Signed with the right key: only the subject is wrong.
    const empty = await tokens.sign({ id: '', username: 'alice' });
    expect((await get(empty)).status).toBe(401);
  });

  it('answers 503 unavailable, not 401, while the users function cannot say', async () => {
    const token = await tokens.sign({ id: 'u_new', username: 'new' });
    state.down = true;
    try {
      expect((await get(token)).status).toBe(503);
    } finally {
      state.down = false;
    }
  });

  it('verifyUser shares its cache between callers with the same deps (HTTP and WebSocket)', async () => {
    const calls = { n: 0 };
    const users = serviceClient('http://users.test', async () => {
      calls.n++;
      return Response.json({ users: [{ id: 'u_2', username: 'b', displayName: 'b' }] });
    });
    const token = await tokens.sign({ id: 'u_2', username: 'b' });
    await verifyUser({ tokens, users }, token);
    await verifyUser({ tokens, users }, token);
    expect(calls.n).toBe(1);
  });
});

describe('tokenFromUpgrade', () => {
  it('reads ?token=', () => {
    expect(tokenFromUpgrade(new URL('http://x/ws?token=abc'), undefined)).toBe('abc');
  });
  it('reads the bearer.<token> subprotocol', () => {
    expect(tokenFromUpgrade(new URL('http://x/ws'), 'parley.v1, bearer.abc.def')).toBe('abc.def');
  });
  it('is undefined without either', () => {
    expect(tokenFromUpgrade(new URL('http://x/ws'), 'parley.v1')).toBeUndefined();
  });
});
