/**
 * notify with its real adapters (deps.real.ts): the notification DB on two
 * MariaDB shards, Redis fan-out and membership cache, and the users, rooms and
 * messages functions over HTTP (small local servers here).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  cloudEventApp,
  createEvent,
  type FanoutPayload,
  type ParleyEvent,
  roomChannel,
  toHttpBinary,
  userChannel,
} from '@parley/eventing';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { migrateNotificationDb } from '@parley/notification-store/migrations';
import type { User } from '@parley/protocol';
import { createLogger, createRedis, newId, type Redis } from '@parley/runtime';
import { freshShardSpec, infraEnv } from '@parley/tests/support/infra';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { realNotify } from './deps.real';
import { createNotify } from './handler';

const alice: User = { id: newId('u'), username: 'alice', displayName: 'Alice' };
const bob: User = { id: newId('u'), username: 'bob', displayName: 'Bob' };
const carol: User = { id: newId('u'), username: 'carol', displayName: 'Carol' };
const roomId = newId('r');
const LAST_SEQ = 12;

/** A local HTTP server answering JSON; resolves with its base URL. */
async function serve(handler: (url: URL) => [number, unknown]) {
  const server = createServer((req, res) => {
    const [status, json] = handler(new URL(req.url ?? '/', 'http://x'));
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('notify with MySQL, Redis and the users, rooms and messages functions', () => {
  const servers: Server[] = [];
  const received = new Map<string, FanoutPayload[]>();
  let adapters: ReturnType<typeof realNotify>;
  let app: ReturnType<typeof cloudEventApp>;
  let redis: Redis;
  let listener: RedisFanout;

  const post = (event: ParleyEvent) => {
    const { headers, body } = toHttpBinary(event);
    return app.request('/', { method: 'POST', headers, body });
  };
  const heard = (channel: string) => received.get(channel) ?? [];

  beforeAll(async () => {
    const spec = freshShardSpec('notify');
    await migrateNotificationDb(spec);
    const users = await serve((url) => {
      const names = (url.searchParams.get('usernames') ?? '').split(',');
      return [200, { users: [alice, bob, carol].filter((u) => names.includes(u.username)) }];
    });
    // Alice and Bob are members; Carol is not.
    const rooms = await serve((url) =>
      url.pathname === `/internal/rooms/${roomId}/member-ids`
        ? [200, { memberIds: [alice.id, bob.id] }]
        : [404, { error: { code: 'not_found', message: 'no such room' } }],
    );
    const messages = await serve((url) => [
      200,
      url.searchParams.get('ids') === roomId ? { rooms: { [roomId]: { lastSeq: LAST_SEQ } } } : {},
    ]);
    servers.push(users.server, rooms.server, messages.server);
    const { REDIS_URL } = infraEnv();
    const registry = new Registry();
    const log = createLogger('notify', 'silent');
    adapters = realNotify(
      {
        NOTIFY_DB_SHARDS: spec,
        REDIS_URL,
        ROOMS_URL: rooms.url,
        USERS_URL: users.url,
        MESSAGES_URL: messages.url,
      },
      { name: 'notify', log, registry },
    );
    app = cloudEventApp(createNotify({ ...adapters.deps, log }), {
      log,
      registry,
      ready: adapters.ready,
    });
    redis = createRedis(REDIS_URL, 'notify-test');
    listener = new RedisFanout(redis);
    for (const channel of [userChannel(bob.id), userChannel(carol.id), roomChannel(roomId)]) {
      received.set(channel, []);
      await listener.subscribe(channel, (ch, payload) => received.get(ch)?.push(payload));
    }
  });

  afterAll(async () => {
    await listener?.close();
    redis?.disconnect();
    await adapters?.close();
    for (const s of servers) s.close();
  });

  it('is ready when MySQL and Redis answer', async () => {
    expect((await app.request('/readyz')).status).toBe(200);
  });

  it('a mention of a member is stored once and reaches their channel once; a non-member gets nothing', async () => {
    const message = {
      id: newId('m'),
      roomId,
      seq: 5,
      senderId: alice.id,
      body: 'ping @bob and @carol',
      ts: Date.now(),
      clientMsgId: 'c-1',
    };
    const event = createEvent('parley.message.created', { message }, { source: 'message-write' });
    expect((await post(event)).status).toBe(202);
    expect((await post(event)).status).toBe(202); // a redelivery
    const notification = {
      kind: 'mention',
      messageId: message.id,
      roomId,
      seq: 5,
      senderId: alice.id,
      excerpt: message.body,
      ts: message.ts,
      read: false,
    };
    await vi.waitFor(() =>
      expect(heard(userChannel(bob.id))).toEqual([
        { kind: 'notification', unreadTotal: 1, notification },
      ]),
    );
    const { store } = adapters.deps;
    expect((await store.inbox(bob.id, { limit: 10 })).notifications).toEqual([notification]);
    expect(await store.unreadTotal(carol.id)).toBe(0);
    expect(await store.markersOf(alice.id)).toEqual({ [roomId]: 5 });
    expect(heard(userChannel(carol.id))).toEqual([]);
  });

  it("a join starts at the room's last seq; a read moves the marker and answers its requester", async () => {
    const joined = createEvent(
      'parley.room.member.joined',
      {
        room: { id: roomId, name: 'Team', kind: 'group', memberCount: 3, lastSeq: 0 },
        userId: carol.id,
        actorId: alice.id,
      },
      { source: 'room-ops' },
    );
    expect((await post(joined)).status).toBe(202);
    await vi.waitFor(() =>
      expect(heard(userChannel(carol.id))).toEqual([
        { kind: 'read-marker', roomId, seq: LAST_SEQ, unread: 0 },
      ]),
    );

    const read = createEvent(
      'parley.notify.read',
      { actorId: bob.id, roomId, seq: 7, lastSeq: LAST_SEQ },
      { source: 'gateway' },
    );
    expect((await post(read)).status).toBe(202);
    await vi.waitFor(() =>
      expect(heard(userChannel(bob.id)).slice(1)).toEqual([
        { kind: 'notification', unreadTotal: 0 },
        { kind: 'read-marker', roomId, seq: 7, unread: 5 },
        { kind: 'command-result', causationId: read.id, read: { roomId, seq: 7, unread: 5 } },
      ]),
    );
    expect(heard(roomChannel(roomId))).toEqual([{ kind: 'read', roomId, userId: bob.id, seq: 7 }]);
    expect(await adapters.deps.store.markersOfRoom(roomId, [alice.id, bob.id, carol.id])).toEqual({
      [alice.id]: 5,
      [bob.id]: 7,
      [carol.id]: LAST_SEQ,
    });
  });
});
