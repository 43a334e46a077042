import { MemoryNotificationStore } from '@parley/notification-store/memory';
import { LIMITS, type Notification } from '@parley/protocol';
import { createLogger, createTokenService } from '@parley/runtime';
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { createNotificationsApp } from './app';

const tokens = createTokenService('a-test-secret-that-is-at-least-32-chars');
const alice = { id: 'u_alice', username: 'alice' };
const bob = { id: 'u_bob', username: 'bob' };

interface InboxBody {
  notifications: Notification[];
  unreadTotal: number;
  nextCursor?: string;
}

describe('notifications', () => {
  let store: MemoryNotificationStore;
  let app: ReturnType<typeof createNotificationsApp>;
  const get = async (path: string, user?: { id: string; username: string }) =>
    app.request(
      path,
      user ? { headers: { authorization: `Bearer ${await tokens.sign(user)}` } } : {},
    );
  const errorOf = async (res: Response) =>
    ((await res.json()) as { error: { code: string; message: string } }).error;

  /** `n` mentions of alice in r_team, seq 1..n, one second apart. */
  const mentionAlice = async (n: number) => {
    for (let seq = 1; seq <= n; seq++)
      await store.addMention(alice.id, {
        messageId: `m_${String(seq).padStart(3, '0')}`,
        roomId: 'r_team',
        seq,
        senderId: bob.id,
        excerpt: `@alice number ${seq}`,
        ts: 1_700_000_000_000 + seq * 1000,
      });
  };

  beforeEach(() => {
    store = new MemoryNotificationStore();
    app = createNotificationsApp({
      store,
      tokens,
      log: createLogger('notifications-test', 'silent'),
      registry: new Registry(),
    });
  });

  describe('GET /api/v1/notifications', () => {
    it("answers the caller's inbox newest first, with the unread total", async () => {
      await mentionAlice(3);
      await store.markRead(alice.id, ['m_002']);
      await store.addMention(bob.id, {
        messageId: 'm_bob',
        roomId: 'r_team',
        seq: 9,
        senderId: alice.id,
        excerpt: '@bob',
        ts: 1,
      });
      const res = await get('/api/v1/notifications', alice);
      expect(res.status).toBe(200);
      const body = (await res.json()) as InboxBody;
      expect(body.unreadTotal).toBe(2);
      expect(body.nextCursor).toBeUndefined();
      expect(body.notifications.map((n) => [n.messageId, n.read])).toEqual([
        ['m_003', false],
        ['m_002', true],
        ['m_001', false],
      ]);
      expect(body.notifications[0]).toEqual({
        kind: 'mention',
        messageId: 'm_003',
        roomId: 'r_team',
        seq: 3,
        senderId: bob.id,
        excerpt: '@alice number 3',
        ts: 1_700_000_003_000,
        read: false,
      });
    });

    it('pages with limit and cursor to the end, every entry once', async () => {
      await mentionAlice(7);
      const seen: string[] = [];
      let path = '/api/v1/notifications?limit=3';
      const sizes: number[] = [];
      for (;;) {
        const body = (await (await get(path, alice)).json()) as InboxBody;
        expect(body.unreadTotal).toBe(7);
        sizes.push(body.notifications.length);
        seen.push(...body.notifications.map((n) => n.messageId));
        if (!body.nextCursor) break;
        path = `/api/v1/notifications?limit=3&cursor=${encodeURIComponent(body.nextCursor)}`;
      }
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen).toEqual(['m_007', 'm_006', 'm_005', 'm_004', 'm_003', 'm_002', 'm_001']);
    });

    it(`answers ${LIMITS.notificationsPageDefault} by default and at most ${LIMITS.notificationsPageMax}`, async () => {
      await mentionAlice(LIMITS.notificationsPageMax + 5);
      const byDefault = (await (await get('/api/v1/notifications', alice)).json()) as InboxBody;
      expect(byDefault.notifications).toHaveLength(LIMITS.notificationsPageDefault);
      expect(byDefault.nextCursor).toBeDefined();
      const most = (await (
        await get('/api/v1/notifications?limit=500', alice)
      ).json()) as InboxBody;
      expect(most.notifications).toHaveLength(LIMITS.notificationsPageMax);
    });

    it('an empty inbox is an empty page', async () => {
      expect(await (await get('/api/v1/notifications', bob)).json()).toEqual({
        notifications: [],
        unreadTotal: 0,
      });
    });

    it.each([
      ['a limit of 0', 'limit=0', 'limit'],
      ['a limit that is no number', 'limit=ten', 'limit'],
      ['a malformed cursor', 'cursor=yesterday', 'invalid cursor'],
      ['a cursor with a bad id', 'cursor=12.m%201', 'invalid cursor'],
    ])('with %s is a 400', async (_, query, message) => {
      const res = await get(`/api/v1/notifications?${query}`, alice);
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe('bad_request');
      expect(error.message).toContain(message);
    });

    it('refuses a caller without a valid token', async () => {
      expect((await get('/api/v1/notifications')).status).toBe(401);
      const forged = await app.request('/api/v1/notifications', {
        headers: { authorization: 'Bearer nope' },
      });
      expect(forged.status).toBe(401);
      expect(await errorOf(forged)).toMatchObject({ code: 'unauthorized' });
    });
  });

  describe('internal routes', () => {
    it("GET /internal/users/:userId/markers answers the user's markers", async () => {
      await store.advanceMarker(alice.id, 'r_team', 4);
      await store.advanceMarker(alice.id, 'r_dm', 17);
      await store.advanceMarker(bob.id, 'r_team', 9);
      const res = await get('/internal/users/u_alice/markers');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ markers: { r_team: 4, r_dm: 17 } });
      expect(await (await get('/internal/users/u_nobody/markers')).json()).toEqual({
        markers: {},
      });
      expect((await get('/internal/users/bad%20id/markers')).status).toBe(400);
    });

    it('GET /internal/rooms/:roomId/markers answers the asked users who have one', async () => {
      await store.advanceMarker(alice.id, 'r_team', 4);
      await store.advanceMarker(bob.id, 'r_team', 9);
      await store.advanceMarker('u_carol', 'r_other', 2);
      const res = await get('/internal/rooms/r_team/markers?userIds=u_alice,u_carol,u_bob');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ markers: { u_alice: 4, u_bob: 9 } });
      expect(await (await get('/internal/rooms/r_team/markers?userIds=')).json()).toEqual({
        markers: {},
      });
    });

    it.each([
      ['no userIds', '/internal/rooms/r_team/markers', 'userIds'],
      ['a malformed user id', '/internal/rooms/r_team/markers?userIds=u_1,bad%20id', 'invalid id'],
      ['a malformed room id', '/internal/rooms/bad%20id/markers?userIds=u_1', 'invalid id'],
      [
        'more than 200 user ids',
        `/internal/rooms/r_team/markers?userIds=${Array.from({ length: 201 }, (_, i) => `u_${i}`).join(',')}`,
        'at most 200',
      ],
    ])('with %s is a 400', async (_, path, message) => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toContain(message);
    });
  });

  it('serves the probes; /metrics only on the private port (serveFunction)', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(404);
  });

  describe('a method a path does not take', () => {
    const send = (method: string, path: string) => app.request(path, { method });

    it.each([
      ['POST', '/api/v1/notifications', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/internal/users/u_alice/markers', 'GET, HEAD, OPTIONS'],
      ['PUT', '/internal/rooms/r_team/markers', 'GET, HEAD, OPTIONS'],
    ])('%s %s is a 405 method_not_allowed with Allow: %s', async (method, path, allow) => {
      const res = await send(method, path);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await errorOf(res)).toMatchObject({ code: 'method_not_allowed' });
    });

    it('an unknown path stays a 404 not_found, whatever the method', async () => {
      for (const method of ['GET', 'POST', 'OPTIONS']) {
        const res = await send(method, '/api/v1/notifications/nope');
        expect(res.status).toBe(404);
        expect(res.headers.get('allow')).toBeNull();
        expect(await errorOf(res)).toMatchObject({ code: 'not_found' });
      }
    });

    it('OPTIONS on a known path answers 204 with Allow; HEAD is answered like GET', async () => {
      const options = await send('OPTIONS', '/api/v1/notifications');
      expect(options.status).toBe(204);
      expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      const head = await app.request('/api/v1/notifications', {
        method: 'HEAD',
        headers: { authorization: `Bearer ${await tokens.sign(alice)}` },
      });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    });
  });
});
