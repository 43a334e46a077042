/** The messages app over real MySQL shards and Redis, written by the real message-write store. */

import { messageMigrations } from '@parley/message-store/migrations';
import { MysqlMessageStore } from '@parley/message-store/mysql';
import type { RecentCache } from '@parley/message-store/recent-cache';
import { RedisRecentCache } from '@parley/message-store/recent-cache/redis';
import type { Message } from '@parley/protocol';
import {
  createLogger,
  createRedis,
  createTokenService,
  migrate,
  newId,
  ShardedMysql,
} from '@parley/runtime';
import { freshShardSpec, infraEnv, runId } from '@parley/tests/support/infra';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessagesApp } from './app';

const tokens = createTokenService('test-secret-that-is-at-least-32-chars!');
const log = createLogger('messages-real-test', 'silent');

describe('messages over MySQL and Redis', () => {
  const prefix = `t:${runId()}:recent:`;
  const redis = createRedis(infraEnv().REDIS_URL, 'messages-test');
  let db: ShardedMysql;
  let store: MysqlMessageStore;
  const room = newId('r');

  const appWith = (recent: RecentCache) =>
    createMessagesApp({
      store,
      recent,
      isMember: async () => true,
      tokens,
      log,
      registry: new Registry(),
    });

  beforeAll(async () => {
    const spec = freshShardSpec('messages');
    await migrate(spec, await messageMigrations());
    db = ShardedMysql.fromSpec(spec);
    store = new MysqlMessageStore(db);
    const cache = new RedisRecentCache(redis, prefix);
    for (let i = 1; i <= 40; i++) {
      const { message } = await store.append({
        id: newId('m'),
        roomId: room,
        senderId: 'u_a',
        clientMsgId: `c${i}`,
        body: `메시지 ${i}`,
        ts: i,
      });
      if (i !== 37) await cache.add(message); // one failed add after its commit
    }
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db?.close();
  });

  it('the Redis cache and MySQL alone give the same pages, gap included', async () => {
    const cached = appWith(new RedisRecentCache(redis, prefix));
    const mysqlOnly = appWith({ add: async () => {}, range: async () => undefined });
    const token = await tokens.sign({ id: 'u_a', username: 'a' });
    const get = async (app: ReturnType<typeof appWith>, q: string) => {
      const res = await app.request(`/api/v1/rooms/${room}/messages${q}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { messages: Message[]; hasMore: boolean };
    };
    for (const q of [
      '?before=37&limit=5',
      '?after=30&limit=5',
      '?limit=10',
      '?after=35&limit=3',
      '?before=3',
      '?after=40',
    ]) {
      expect(await get(cached, q), q).toEqual(await get(mysqlOnly, q));
    }
    // The latest page missed across the gap and repaired it.
    expect(await redis.zcount(prefix + room, 37, 37)).toBe(1);
  });
});
