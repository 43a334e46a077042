/**
 * room-ops with its real adapters (deps.real.ts): MySQL on two shards, Redis
 * membership cache and fanout, an HTTP event sink and an HTTP users function
 * (both small local servers here).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  cloudEventApp,
  createEvent,
  type FanoutPayload,
  fromHttp,
  type ParleyEvent,
  toHttpBinary,
  userChannel,
} from '@parley/eventing';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import type { User } from '@parley/protocol';
import { migrateRoomDb } from '@parley/room-store/migrations';
import { createLogger, createRedis, newId, type Redis } from '@parley/runtime';
import { RedisMembershipCache } from '@parley/runtime/membership/membership-cache.redis';
import { freshShardSpec, infraEnv } from '@parley/tests/support/infra';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { realRoomOps } from './deps.real';
import { createRoomOps } from './handler';

const alice: User = { id: newId('u'), username: 'alice', displayName: 'Alice' };
const bob: User = { id: newId('u'), username: 'bob', displayName: 'Bob' };

/** A local HTTP server; resolves with its base URL. */
async function serve(
  handler: (url: URL, body: string, headers: Record<string, string>) => [number, unknown],
) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const [status, json] = handler(
        new URL(req.url ?? '/', 'http://x'),
        body,
        req.headers as Record<string, string>,
      );
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(json === undefined ? '' : JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('room-ops with MySQL, Redis, an HTTP sink and the users function', () => {
  const emitted: ParleyEvent[] = [];
  const servers: Server[] = [];
  let ops: ReturnType<typeof realRoomOps>;
  let redis: Redis;
  let listener: RedisFanout;

  beforeAll(async () => {
    const spec = freshShardSpec('rooms');
    await migrateRoomDb(spec);
    const sink = await serve((_url, body, headers) => {
      emitted.push(fromHttp(headers, body));
      return [202, undefined];
    });
    const users = await serve((url) => {
      const ids = (url.searchParams.get('ids') ?? '').split(',');
      return [200, { users: [alice, bob].filter((u) => ids.includes(u.id)) }];
    });
    servers.push(sink.server, users.server);
    const { REDIS_URL } = infraEnv();
    ops = realRoomOps(
      { ROOMS_DB_SHARDS: spec, REDIS_URL, K_SINK: sink.url, USERS_URL: users.url },
      { name: 'room-ops', log: createLogger('room-ops', 'silent'), registry: new Registry() },
    );
    redis = createRedis(REDIS_URL, 'room-ops-test');
    listener = new RedisFanout(redis);
  });

  afterAll(async () => {
    await listener?.close();
    redis?.disconnect();
    await ops?.close();
    for (const s of servers) s.close();
  });

  it('a create makes the membership visible in Redis and a room payload reaches the member', async () => {
    const { deps, ready } = ops;
    const log = createLogger('room-ops', 'silent');
    const app = cloudEventApp(createRoomOps({ ...deps, log }), {
      log,
      registry: new Registry(),
      ready,
    });
    expect((await app.request('/readyz')).status).toBe(200);

    const received: FanoutPayload[] = [];
    await listener.subscribe(userChannel(bob.id), (_channel, payload) => received.push(payload));

    const cmd = createEvent(
      'parley.room.create',
      { actorId: alice.id, roomId: newId('r'), name: 'Real team', memberIds: [bob.id] },
      { source: 'gateway' },
    );
    const { headers, body } = toHttpBinary(cmd);
    expect((await app.request('/', { method: 'POST', headers, body })).status).toBe(202);

    const cache = new RedisMembershipCache(redis);
    expect((await cache.members(cmd.data.roomId))?.sort()).toEqual([alice.id, bob.id].sort());
    await vi.waitFor(() =>
      expect(received).toEqual([
        {
          kind: 'room',
          event: 'created',
          room: {
            id: cmd.data.roomId,
            name: 'Real team',
            kind: 'group',
            memberCount: 2,
            lastSeq: 0,
          },
          causationId: cmd.id,
        },
      ]),
    );
    expect(emitted).toMatchObject([{ type: 'parley.room.created', causationid: cmd.id }]);
    expect(await deps.store.roomIdsOf(bob.id)).toEqual([cmd.data.roomId]);
  });
});
