import { createRedis, newId } from '@parley/runtime';
import { infraEnv, runId } from '@parley/tests/support/infra';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRecentCacheContract } from './recent-cache.contract';
import { RECENT_TTL_SECONDS, RedisRecentCache } from './recent-cache.redis';

/** Removes this run's keys (a unique prefix, so other runs' keys are untouched). */
async function dropKeys(redis: Redis, prefix: string) {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

describeRecentCacheContract('redis', async () => {
  const redis = createRedis(infraEnv().REDIS_URL, 'recent-cache-test');
  const prefix = `t:${runId()}:recent:`;
  return { cache: new RedisRecentCache(redis, prefix), teardown: () => dropKeys(redis, prefix) };
});

describe('RedisRecentCache storage', () => {
  const prefix = `t:${runId()}:recent:`;
  const redis = createRedis(infraEnv().REDIS_URL, 'recent-cache-test');
  const cache = new RedisRecentCache(redis, prefix);
  beforeAll(() => redis.ping());
  afterAll(() => dropKeys(redis, prefix));

  it('keeps a room as one sorted set scored by seq, with an expiry', async () => {
    const room = newId('r');
    const m = {
      id: 'm_1',
      roomId: room,
      seq: 7,
      senderId: 'u_a',
      body: 'x',
      ts: 1,
      clientMsgId: 'c',
    };
    await cache.add(m);
    await cache.add(m);
    expect(await redis.zrange(prefix + room, 0, -1, 'WITHSCORES')).toEqual([
      JSON.stringify(m),
      '7',
    ]);
    const ttl = await redis.ttl(prefix + room);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(RECENT_TTL_SECONDS);
  });

  it('treats an unreadable entry as a gap, not an error', async () => {
    const room = newId('r');
    await cache.add({
      id: 'm_1',
      roomId: room,
      seq: 1,
      senderId: 'u_a',
      body: 'x',
      ts: 1,
      clientMsgId: 'c',
    });
    await redis.zadd(prefix + room, 2, 'not json');
    expect(await cache.range(room, { limit: 2, lastSeq: 2 })).toBeUndefined();
    expect(await cache.range(room, { limit: 1, lastSeq: 1 })).toMatchObject({ hasMore: false });
  });

  it('a message added again with other content (an edit) replaces the one at its seq', async () => {
    const room = newId('r');
    const m = {
      id: 'm_1',
      roomId: room,
      seq: 3,
      senderId: 'u_a',
      body: 'x',
      ts: 1,
      clientMsgId: 'c',
    };
    await cache.add(m);
    await cache.add({ ...m, body: 'edited', editedTs: 2 });
    expect(await redis.zrange(prefix + room, 0, -1)).toEqual([
      JSON.stringify({ ...m, body: 'edited', editedTs: 2 }),
    ]);
  });

  it('adds issued in one turn go out in one auto-pipelined write (not one MULTI each)', async () => {
    const room = newId('r');
    const adds = [1, 2, 3].map((seq) =>
      cache.add({
        id: `m_${seq}`,
        roomId: room,
        seq,
        senderId: 'u_a',
        body: 'x',
        ts: 1,
        clientMsgId: `c${seq}`,
      }),
    );
    expect(redis.autoPipelineQueueSize).toBe(3);
    await Promise.all(adds);
    expect(await redis.zcard(prefix + room)).toBe(3);
  });
});
