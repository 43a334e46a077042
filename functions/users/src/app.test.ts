import { createLogger, createMetricsRegistry, createTokenService, newId } from '@parley/runtime';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createUsersApp, INTERNAL_LOOKUP_MAX_IDS } from './app';
import type { KdfLimits } from './kdf-limiter';
import { hashPassword, verifyPassword } from './password';
import { MemoryUserStore } from './user-store.memory';

// The real verifyPassword, observed: login must do the KDF work even for an unknown user.
vi.mock('./password', async (importOriginal) => {
  const real = await importOriginal<typeof import('./password')>();
  return { ...real, verifyPassword: vi.fn(real.verifyPassword) };
});

const SECRET = 'test-secret-test-secret-test-secret!';

function setup(ready?: () => boolean, kdf?: KdfLimits) {
  const store = new MemoryUserStore();
  const tokens = createTokenService(SECRET);
  const registry = createMetricsRegistry('users');
  const app = createUsersApp({
    store,
    tokens,
    log: createLogger('users', 'silent'),
    registry,
    ready,
    kdf,
  });
  const post = (path: string, body: unknown) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const get = (path: string, token?: string) =>
    app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const signup = async (username: string, password = 'password-123', displayName?: string) => {
    const res = await post('/api/v1/auth/signup', { username, password, displayName });
    expect(res.status).toBe(201);
    return (await res.json()) as {
      user: { id: string; username: string; displayName: string };
      token: string;
    };
  };
  return { app, store, tokens, registry, post, get, signup };
}

type Harness = ReturnType<typeof setup>;
const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

describe('users: sign-up, login, profile, lookup', () => {
  let t: Harness;
  beforeEach(() => {
    t = setup();
    vi.mocked(verifyPassword).mockClear();
  });

  it('a user signs up, logs in, reads their profile and is found by others', async () => {
    const { user, token } = await t.signup('alice', 'wonderland-1', 'Alice L.');
    expect(user).toEqual({
      id: expect.stringMatching(/^u_/),
      username: 'alice',
      displayName: 'Alice L.',
    });
    expect((await t.tokens.verify(token)).userId).toBe(user.id);

    const login = await t.post('/api/v1/auth/login', {
      username: 'alice',
      password: 'wonderland-1',
    });
    expect(login.status).toBe(200);
    const session = (await login.json()) as { user: unknown; token: string };
    expect(session.user).toEqual(user);

    const me = await t.get('/api/v1/me', session.token);
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user });

    const { token: bobToken } = await t.signup('bob');
    const found = await t.get('/api/v1/users?q=ali', bobToken);
    expect(await found.json()).toEqual({ users: [user] });
    const internal = await t.get(`/internal/users?ids=${user.id}`);
    expect(await internal.json()).toEqual({ users: [user] });
  });

  it('the display name defaults to the username', async () => {
    const { user } = await t.signup('carol');
    expect(user.displayName).toBe('carol');
  });

  it('usernames are case-insensitive: stored lower-case, logged in with any case', async () => {
    const { user } = await t.signup('DaVe');
    expect(user.username).toBe('dave');
    const login = await t.post('/api/v1/auth/login', {
      username: 'DAVE',
      password: 'password-123',
    });
    expect(login.status).toBe(200);
    const taken = await t.post('/api/v1/auth/signup', {
      username: 'dave',
      password: 'password-456',
    });
    expect(taken.status).toBe(409);
  });

  it('a taken username is a 409 username_taken and leaves the first user intact', async () => {
    const { user } = await t.signup('erin', 'first-password');
    const res = await t.post('/api/v1/auth/signup', {
      username: 'erin',
      password: 'second-password',
    });
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('username_taken');
    const login = await t.post('/api/v1/auth/login', {
      username: 'erin',
      password: 'first-password',
    });
    expect(((await login.json()) as { user: { id: string } }).user.id).toBe(user.id);
  });

  it.each([
    ['not JSON', '{"username": "frank",', 'body must be JSON'],
    ['no password', { username: 'frank' }, 'password'],
    ['a short password', { username: 'frank', password: 'short' }, 'password'],
    ['a short username', { username: 'fr', password: 'password-123' }, 'username'],
    [
      'a username with spaces',
      { username: 'frank n', password: 'password-123' },
      'username may contain',
    ],
    [
      'a blank display name',
      { username: 'frank', password: 'password-123', displayName: '  ' },
      'displayName',
    ],
    ['an array', [], 'expected object'],
  ])(
    'a sign-up with %s is a 400 naming the problem, and stores nothing',
    async (_, body, message) => {
      const res = await t.post('/api/v1/auth/signup', body);
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe('bad_request');
      expect(error.message).toContain(message);
      expect(await t.store.searchByPrefix('', 50)).toEqual([]);
    },
  );

  it('a wrong password and an unknown user get the same 401, both after a full KDF check', async () => {
    await t.signup('grace', 'right-password');
    vi.mocked(verifyPassword).mockClear();
    const wrong = await t.post('/api/v1/auth/login', {
      username: 'grace',
      password: 'wrong-password',
    });
    const unknown = await t.post('/api/v1/auth/login', {
      username: 'nobody',
      password: 'wrong-password',
    });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const bodies = [await wrong.json(), await unknown.json()];
    expect(bodies[0]).toEqual({
      error: { code: 'unauthorized', message: 'invalid username or password' },
    });
    expect(bodies[1]).toEqual(bodies[0]);
    const hashes = vi
      .mocked(verifyPassword)
      .mock.calls.map(([, stored]) => stored.split('$').slice(0, 4));
    expect(hashes).toEqual([
      ['scrypt', '32768', '8', '1'],
      ['scrypt', '32768', '8', '1'],
    ]);
  });

  it('a login without a password is a 400', async () => {
    const res = await t.post('/api/v1/auth/login', { username: 'grace' });
    expect(res.status).toBe(400);
  });

  describe('bearer tokens', () => {
    const refused = async (res: Response, message: string) => {
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toEqual({ code: 'unauthorized', message });
    };

    it('a missing token is refused on /me and /users', async () => {
      await refused(await t.get('/api/v1/me'), 'missing token');
      await refused(await t.get('/api/v1/users?q=a'), 'missing token');
      const basic = await t.app.request('/api/v1/me', { headers: { authorization: 'Basic YTpi' } });
      await refused(basic, 'missing token');
    });

    it('a malformed or forged token is refused', async () => {
      await refused(await t.get('/api/v1/me', 'not.a.jwt'), 'invalid token');
      const { user } = await t.signup('heidi');
      const forged = await createTokenService('another-secret-another-secret-1234').sign(user);
      await refused(await t.get('/api/v1/me', forged), 'invalid token');
    });

    it('an expired token is refused', async () => {
      const { user } = await t.signup('ivan');
      const expired = await createTokenService(SECRET, -60).sign(user);
      await refused(await t.get('/api/v1/me', expired), 'token expired');
    });

    it('a valid token for a user the store does not know is refused', async () => {
      const ghost = await t.tokens.sign({ id: newId('u'), username: 'ghost' });
      await refused(await t.get('/api/v1/me', ghost), 'unknown user');
    });
  });

  describe('GET /api/v1/users', () => {
    it('finds users by username prefix, sorted, at most limit, case-insensitively', async () => {
      const { token } = await t.signup('judy');
      for (const n of ['jack', 'jane', 'jacob', 'kate'])
        await t.store.create({ id: newId('u'), username: n, displayName: n, passwordHash: 'x' });
      const all = (await (await t.get('/api/v1/users?q=JA', token)).json()) as {
        users: { username: string }[];
      };
      expect(all.users.map((u) => u.username)).toEqual(['jack', 'jacob', 'jane']);
      const two = (await (await t.get('/api/v1/users?q=j&limit=2', token)).json()) as {
        users: { username: string }[];
      };
      expect(two.users.map((u) => u.username)).toEqual(['jack', 'jacob']);
      expect(JSON.stringify(all)).not.toContain('passwordHash');
    });

    it.each([
      ['no q', '/api/v1/users', 'q'],
      ['a limit over 50', '/api/v1/users?q=a&limit=51', 'limit'],
      ['a limit of 0', '/api/v1/users?q=a&limit=0', 'limit'],
    ])('with %s is a 400', async (_, path, message) => {
      const { token } = await t.signup('karl');
      const res = await t.get(path, token);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toContain(message);
    });
  });

  describe('GET /internal/users', () => {
    it('returns the known users among the ids, in order, without a token', async () => {
      const { user: a } = await t.signup('liam');
      const { user: b } = await t.signup('mia');
      const res = await t.get(`/internal/users?ids=${b.id},${newId('u')},${a.id},${b.id}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ users: [b, a] });
      expect(await (await t.get('/internal/users?ids=')).json()).toEqual({ users: [] });
    });

    it.each([
      ['no ids', '/internal/users', 'ids'],
      ['a malformed id', '/internal/users?ids=u_1,bad%20id', 'invalid id'],
      [
        `more than ${INTERNAL_LOOKUP_MAX_IDS} ids`,
        `/internal/users?ids=${Array.from({ length: INTERNAL_LOOKUP_MAX_IDS + 1 }, (_, i) => `u_${i}`).join(',')}`,
        `at most ${INTERNAL_LOOKUP_MAX_IDS}`,
      ],
    ])('with %s is a 400', async (_, path, message) => {
      const res = await t.get(path);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toContain(message);
    });
  });

  describe('GET /internal/users?usernames=', () => {
    it('returns the known users among the usernames, in order, without a token', async () => {
      const { user: a } = await t.signup('nora');
      const { user: b } = await t.signup('oscar.b');
      const res = await t.get('/internal/users?usernames=oscar.b,nobody,nora,oscar.b');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ users: [b, a] });
      expect(await (await t.get('/internal/users?usernames=')).json()).toEqual({ users: [] });
    });

    it.each([
      ['an upper-case username', '/internal/users?usernames=nora,Nora', 'username'],
      ['a too short username', '/internal/users?usernames=no', 'usernames.0'],
      ['ids as well', '/internal/users?usernames=nora&ids=u_1', 'either ids or usernames'],
      [
        `more than ${INTERNAL_LOOKUP_MAX_IDS} usernames`,
        `/internal/users?usernames=${Array.from({ length: INTERNAL_LOOKUP_MAX_IDS + 1 }, (_, i) => `user${i}`).join(',')}`,
        `at most ${INTERNAL_LOOKUP_MAX_IDS}`,
      ],
    ])('with %s is a 400', async (_, path, message) => {
      const res = await t.get(path);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toContain(message);
    });
  });

  describe('weak passwords', () => {
    it.each([
      ['"password"', 'password'],
      ['"12345678"', '12345678'],
      ['eight spaces', '        '],
      ['the username', 'frankie99'],
      ['the username in another case, inside', 'My-FrankIE99!'],
      ['one character repeated', 'zzzzzzzzzz'],
      ['a run of letters', 'abcdefghij'],
    ])(
      'a sign-up with %s is a 400 weak_password that says why, and stores nothing',
      async (_, password) => {
        const res = await t.post('/api/v1/auth/signup', { username: 'frankie99', password });
        expect(res.status).toBe(400);
        const error = await errorOf(res);
        expect(error.code).toBe('weak_password');
        expect(error.message).toMatch(/password/);
        expect(await t.store.byUsername('frankie99')).toBeNull();
      },
    );

    it('login does not judge passwords: a user stored with a weak one still logs in', async () => {
      await t.store.create({
        id: newId('u'),
        username: 'oldtimer',
        displayName: 'oldtimer',
        passwordHash: await hashPassword('password'),
      });
      const res = await t.post('/api/v1/auth/login', {
        username: 'oldtimer',
        password: 'password',
      });
      expect(res.status).toBe(200);
    });
  });

  describe('password hashing under load', () => {
    it('past the hash queue, a login is refused at once with 503 unavailable and Retry-After', async () => {
      const busy = setup(undefined, { concurrency: 1, queue: 0 });
      await busy.signup('quinn', 'lantern-harbor-9');
      const login = () =>
        busy.post('/api/v1/auth/login', { username: 'quinn', password: 'lantern-harbor-9' });
      // Both reach the limiter while the first one's scrypt runs on the thread pool.
      const [first, second] = await Promise.all([login(), login()]);
      expect(first.status).toBe(200);
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('1');
      expect((await errorOf(second)).code).toBe('unavailable');
      expect((await login()).status).toBe(200);
      expect(await busy.registry.metrics()).toContain(
        'parley_users_kdf_refused_total{service="users"} 1',
      );
    });

    it('a login the gateway marks as from a known address has its own line, served first', async () => {
      const busy = setup(undefined, { concurrency: 1, queue: 1 });
      await busy.signup('sam', 'lantern-harbor-9');
      const login = (known: boolean) =>
        busy.app.request('/api/v1/auth/login', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(known ? { 'x-parley-known-address': '1' } : {}),
          },
          body: JSON.stringify({ username: 'sam', password: 'lantern-harbor-9' }),
        });
      // One hashing, one stranger waiting, one stranger refused; the owner still gets in.
      const statuses = await Promise.all([login(false), login(false), login(false), login(true)]);
      expect(statuses.map((r) => r.status)).toEqual([200, 200, 503, 200]);
    });

    it('a sign-up for a taken username is refused before any hash is computed', async () => {
      const busy = setup(undefined, { concurrency: 1, queue: 0 });
      await busy.signup('rosa', 'velvet-compass-4');
      const [taken, login] = await Promise.all([
        busy.post('/api/v1/auth/signup', { username: 'rosa', password: 'other-password' }),
        busy.post('/api/v1/auth/login', { username: 'rosa', password: 'velvet-compass-4' }),
      ]);
      expect([taken.status, login.status]).toEqual([409, 200]);
    });
  });

  describe('ops routes', () => {
    it('answers /healthz and /readyz; /metrics only on the private port (serveFunction)', async () => {
      expect((await t.get('/healthz')).status).toBe(200);
      expect((await t.get('/readyz')).status).toBe(200);
      expect((await t.get('/metrics')).status).toBe(404);
      expect(await t.registry.metrics()).toContain('service="users"');
    });

    it('answers a known path with the wrong method 405, naming the methods it takes', async () => {
      const res = await t.post('/api/v1/me', {});
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      expect((await errorOf(res)).code).toBe('method_not_allowed');
      const login = await t.get('/api/v1/auth/login');
      expect(login.status).toBe(405);
      expect(login.headers.get('allow')).toBe('POST, OPTIONS');
    });

    it('/readyz is 503 while the store is not ready', async () => {
      const down = setup(() => false);
      expect((await down.get('/readyz')).status).toBe(503);
    });
  });
});
