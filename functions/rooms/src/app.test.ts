import { MemoryRoomStore } from '@parley/room-store/memory';
import { createLogger, createTokenService } from '@parley/runtime';
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { createRoomsApp } from './app';

const tokens = createTokenService('a-test-secret-that-is-at-least-32-chars');
const alice = { id: 'u_alice', username: 'alice' };
const bob = { id: 'u_bob', username: 'bob' };
const carol = { id: 'u_carol', username: 'carol' };

describe('rooms', () => {
  let store: MemoryRoomStore;
  let app: ReturnType<typeof createRoomsApp>;
  const get = async (path: string, user?: { id: string; username: string }) =>
    app.request(
      path,
      user ? { headers: { authorization: `Bearer ${await tokens.sign(user)}` } } : {},
    );

  beforeEach(async () => {
    store = new MemoryRoomStore();
    app = createRoomsApp({
      store,
      tokens,
      log: createLogger('rooms-test', 'silent'),
      registry: new Registry(),
    });
    await store.createRoom({ id: 'r_team', name: 'Team', kind: 'group', createdBy: alice.id }, [
      alice.id,
      bob.id,
    ]);
    await store.openDm(alice.id, carol.id, 'r_dm', 'Alice & Carol');
  });

  describe('GET /api/v1/rooms', () => {
    it("lists the caller's rooms with member counts", async () => {
      const res = await get('/api/v1/rooms', alice);
      expect(res.status).toBe(200);
      const { rooms } = (await res.json()) as { rooms: { id: string }[] };
      expect(rooms.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([
        { id: 'r_dm', name: 'Alice & Carol', kind: 'dm', memberCount: 2, lastSeq: 0 },
        { id: 'r_team', name: 'Team', kind: 'group', memberCount: 2, lastSeq: 0 },
      ]);
      expect(await (await get('/api/v1/rooms', bob)).json()).toMatchObject({
        rooms: [{ id: 'r_team' }],
      });
    });

    it('refuses a caller without a valid token', async () => {
      expect((await get('/api/v1/rooms')).status).toBe(401);
      const forged = await app.request('/api/v1/rooms', {
        headers: { authorization: 'Bearer nope' },
      });
      expect(forged.status).toBe(401);
      expect(await forged.json()).toMatchObject({ error: { code: 'unauthorized' } });
    });
  });

  describe('GET /api/v1/rooms/:roomId', () => {
    it('shows a member the room and its member ids', async () => {
      const res = await get('/api/v1/rooms/r_team', bob);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { room: unknown; memberIds: string[] };
      expect(body.room).toEqual({
        id: 'r_team',
        name: 'Team',
        kind: 'group',
        memberCount: 2,
        lastSeq: 0,
      });
      expect(body.memberIds.sort()).toEqual([alice.id, bob.id]);
    });

    it('refuses a non-member (403 not_member) and a room that does not exist (404)', async () => {
      const outsider = await get('/api/v1/rooms/r_team', carol);
      expect(outsider.status).toBe(403);
      expect(await outsider.json()).toMatchObject({ error: { code: 'not_member' } });
      const missing = await get('/api/v1/rooms/r_nowhere', alice);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    });

    it('refuses a caller without a token and an invalid room id', async () => {
      expect((await get('/api/v1/rooms/r_team')).status).toBe(401);
      expect((await get('/api/v1/rooms/bad%20id', alice)).status).toBe(400);
    });
  });

  describe('internal routes', () => {
    it('GET /internal/rooms/:roomId/member-ids answers the members, or 404 for no room', async () => {
      const res = await get('/internal/rooms/r_team/member-ids');
      expect(res.status).toBe(200);
      expect(((await res.json()) as { memberIds: string[] }).memberIds.sort()).toEqual([
        alice.id,
        bob.id,
      ]);
      expect((await get('/internal/rooms/r_nowhere/member-ids')).status).toBe(404);
    });

    it('an empty room still answers 200 with no members', async () => {
      await store.removeMember('r_team', alice.id);
      await store.removeMember('r_team', bob.id);
      const res = await get('/internal/rooms/r_team/member-ids');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ memberIds: [] });
    });

    it('GET /internal/users/:userId/room-ids answers the rooms a user is in', async () => {
      const res = await get('/internal/users/u_carol/room-ids');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ roomIds: ['r_dm'], memberCounts: { r_dm: 2 } });
      expect(await (await get('/internal/users/u_nobody/room-ids')).json()).toEqual({
        roomIds: [],
        memberCounts: {},
      });
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
      ['PUT', '/api/v1/rooms', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/api/v1/rooms/r_team', 'GET, HEAD, OPTIONS'],
      ['POST', '/internal/rooms/r_team/member-ids', 'GET, HEAD, OPTIONS'],
      ['PATCH', '/readyz', 'GET, HEAD, OPTIONS'],
    ])('%s %s is a 405 method_not_allowed with Allow: %s', async (method, path, allow) => {
      const res = await send(method, path);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await res.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    });

    it('an unknown path stays a 404 not_found, whatever the method', async () => {
      for (const method of ['GET', 'PUT', 'OPTIONS']) {
        const res = await send(method, '/api/v1/nope');
        expect(res.status).toBe(404);
        expect(res.headers.get('allow')).toBeNull();
        expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
      }
    });

    it('OPTIONS on a known path answers 204 with Allow; HEAD is answered like GET', async () => {
      const options = await send('OPTIONS', '/api/v1/rooms/r_team');
      expect(options.status).toBe(204);
      expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      const head = await app.request('/api/v1/rooms', {
        method: 'HEAD',
        headers: { authorization: `Bearer ${await tokens.sign(alice)}` },
      });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    });
  });
});
