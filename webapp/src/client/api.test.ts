import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from './api';
import { defined, fakeFetch } from './testing';

const user = { id: 'u_1', username: 'ann', displayName: 'Ann' };

function client(routes: Parameters<typeof fakeFetch>[0], token: string | null = 'tok') {
  const f = fakeFetch(routes);
  const onUnauthorized = vi.fn();
  const api = new ApiClient({ getToken: () => token, onUnauthorized, fetch: f.fetch });
  return { api, calls: f.calls, onUnauthorized };
}

describe('ApiClient', () => {
  it('sends the bearer token and returns the resource', async () => {
    const { api, calls } = client({ 'GET /me': () => ({ status: 200, body: { user } }) });
    expect(await api.me()).toEqual(user);
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/me', auth: 'Bearer tok' });
  });

  it('logs in without a token', async () => {
    const { api, calls } = client(
      { 'POST /auth/login': () => ({ status: 200, body: { user, token: 't' } }) },
      null,
    );
    expect(await api.login('ann', 'secret-pw')).toEqual({ user, token: 't' });
    expect(calls[0]).toMatchObject({
      auth: null,
      body: { username: 'ann', password: 'secret-pw' },
    });
  });

  it('turns an error body into an ApiError with the protocol code', async () => {
    const { api } = client({
      'POST /auth/signup': () => ({
        status: 409,
        body: { error: { code: 'username_taken', message: 'username is taken' } },
      }),
    });
    const err = await api.signup('ann', 'secret-pw').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'username_taken' });
  });

  it('a wrong password is not a session expiry', async () => {
    const { api, onUnauthorized } = client({
      'POST /auth/login': () => ({
        status: 401,
        body: { error: { code: 'unauthorized', message: 'wrong username or password' } },
      }),
    });
    await expect(api.login('ann', 'nope-nope')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('a 401 on an authenticated call means the session expired', async () => {
    const { api, onUnauthorized } = client({
      'GET /rooms': () => ({
        status: 401,
        body: { error: { code: 'unauthorized', message: 'x' } },
      }),
    });
    await expect(api.rooms()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('guesses the code from the status when the body is not the protocol’s', async () => {
    const { api } = client({ 'GET /rooms': () => ({ status: 504, body: 'gateway timeout' }) });
    await expect(api.rooms()).rejects.toMatchObject({ status: 504, code: 'timeout' });
  });

  it('reports an unreachable server as status 0, unavailable', async () => {
    const api = new ApiClient({
      getToken: () => 'tok',
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    await expect(api.rooms()).rejects.toMatchObject({ status: 0, code: 'unavailable' });
  });

  it('asks for history before or after a seq', async () => {
    const page = { messages: [], hasMore: false };
    const { api, calls } = client({
      'GET /rooms/r_1/messages': () => ({ status: 200, body: page }),
    });
    await api.history('r_1');
    await api.history('r_1', { before: 51, limit: 50 });
    await api.history('r_1', { after: 7 });
    expect(calls.map((c) => c.path)).toEqual([
      '/rooms/r_1/messages',
      '/rooms/r_1/messages?before=51&limit=50',
      '/rooms/r_1/messages?after=7',
    ]);
  });

  it('searches with the query, scope, sort and cursor as query parameters', async () => {
    const page = { hits: [], nextCursor: 'c_2' };
    const { api, calls } = client({ 'GET /search': () => ({ status: 200, body: page }) });
    const q = '회의 & #notes?';
    expect(
      await api.search({ q, roomId: 'r_1', sort: 'relevance', limit: 20, cursor: 'c_1' }),
    ).toEqual(page);
    await api.search({ q: 'plain' });
    const first = new URL(defined(calls[0]).path, 'http://parley.test');
    expect(first.pathname).toBe('/search');
    expect(Object.fromEntries(first.searchParams)).toEqual({
      q,
      roomId: 'r_1',
      sort: 'relevance',
      limit: '20',
      cursor: 'c_1',
    });
    expect(calls[0]?.auth).toBe('Bearer tok');
    expect(calls[1]?.path).toBe('/search?q=plain');
  });

  it('a refused search query is a bad_request with the server’s reason', async () => {
    const { api } = client({
      'GET /search': () => ({
        status: 400,
        body: { error: { code: 'bad_request', message: 'q has no words to search for' } },
      }),
    });
    await expect(api.search({ q: '?!' })).rejects.toMatchObject({
      status: 400,
      code: 'bad_request',
      message: 'q has no words to search for',
    });
  });

  it('leave answers 204 without a body', async () => {
    const { api } = client({ 'DELETE /rooms/r_1/members/me': () => ({ status: 204 }) });
    await expect(api.leave('r_1')).resolves.toBeUndefined();
  });

  it('marks a room read with the seq in the body', async () => {
    const { api, calls } = client({
      'POST /rooms/r_1/read': (req) => ({
        status: 200,
        body: { roomId: 'r_1', seq: (req.body as { seq: number }).seq, unread: 2 },
      }),
    });
    expect(await api.markRead('r_1', 7)).toEqual({ roomId: 'r_1', seq: 7, unread: 2 });
    expect(calls[0]).toMatchObject({ method: 'POST', body: { seq: 7 }, auth: 'Bearer tok' });
  });

  it('pages the notification inbox by cursor and marks entries read', async () => {
    const page = { notifications: [], unreadTotal: 3, nextCursor: '1700000000000.m_9' };
    const { api, calls } = client({
      'GET /notifications': () => ({ status: 200, body: page }),
      'POST /notifications/read': () => ({ status: 200, body: { unreadTotal: 0 } }),
    });
    expect(await api.notifications({ limit: 20 })).toEqual(page);
    await api.notifications({ limit: 20, cursor: '1700000000000.m_9' });
    await api.notifications();
    expect(await api.markNotificationsRead({ all: true })).toEqual({ unreadTotal: 0 });
    await api.markNotificationsRead({ messageIds: ['m_1'] });
    expect(calls.map((c) => c.path)).toEqual([
      '/notifications?limit=20',
      '/notifications?limit=20&cursor=1700000000000.m_9',
      '/notifications',
      '/notifications/read',
      '/notifications/read',
    ]);
    expect(calls.slice(3).map((c) => c.body)).toEqual([{ all: true }, { messageIds: ['m_1'] }]);
  });
});
