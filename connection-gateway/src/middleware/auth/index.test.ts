import { createLogger, createTokenService, installErrorHandler } from '@parley/runtime';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requireAuth, tokenFromUpgrade } from './index';

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
