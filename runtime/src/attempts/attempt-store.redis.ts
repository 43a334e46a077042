/**
 * Attempt counters in Redis, shared by every gateway: a hash per key (`n` attempts, `t` the last
 * one's time) with a TTL. `attempt` is one Lua script, so the check and the count are one atomic
 * step across all its keys: parallel requests cannot all pass a check made before any of them
 * was counted. (The keys of one call may hash to different slots: on a Redis Cluster they would
 * need a common hash tag.)
 */
import type { Redis } from 'ioredis';
import type { AttemptStore, AttemptVerdict, BackoffPolicy } from './attempt-store';

const PREFIX = 'parley:attempts:';

// ARGV[1] = now; then per key: free, baseMs, maxMs, ttlMs. Returns 0 (counted) or the wait in ms.
// The wait is the same formula as waitAfter() in attempt-store.ts.
const ATTEMPT = `
local now = tonumber(ARGV[1])
local longest = 0
for i, key in ipairs(KEYS) do
  local o = 1 + (i - 1) * 4
  local free, base, max = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3])
  local v = redis.call('HMGET', key, 'n', 't')
  local n = tonumber(v[1]) or 0
  if n >= free then
    local wait = math.min(max, base * 2 ^ (n - free))
    local left = (tonumber(v[2]) or 0) + wait - now
    if left > longest then longest = left end
  end
end
if longest > 0 then return math.ceil(longest) end
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'n', 1)
  redis.call('HSET', key, 't', ARGV[1])
  redis.call('PEXPIRE', key, ARGV[1 + (i - 1) * 4 + 4])
end
return 0
`;

const REFUND = `
for _, key in ipairs(KEYS) do
  local n = tonumber(redis.call('HGET', key, 'n') or '0')
  if n > 0 then redis.call('HINCRBY', key, 'n', -1) end
end
return 0
`;

export class RedisAttemptStore implements AttemptStore {
  constructor(private readonly redis: Redis) {}

  async attempt(
    keys: readonly { key: string; policy: BackoffPolicy }[],
    now: number,
  ): Promise<AttemptVerdict> {
    if (keys.length === 0) return { ok: true };
    const args = keys.flatMap(({ policy: p }) => [p.free, p.baseMs, p.maxMs, p.ttlMs]);
    const wait = Number(
      await this.redis.eval(ATTEMPT, keys.length, ...keys.map((k) => PREFIX + k.key), now, ...args),
    );
    return wait > 0 ? { ok: false, retryAfterMs: wait } : { ok: true };
  }

  async refund(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.redis.eval(REFUND, keys.length, ...keys.map((k) => PREFIX + k));
  }

  async add(key: string, _now: number, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .hincrby(PREFIX + key, 'n', 1)
      .pexpire(PREFIX + key, ttlMs)
      .exec();
  }

  async counts(keys: readonly string[], _now: number): Promise<number[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.hget(PREFIX + k, 'n');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, v]) => {
      if (err) throw err;
      return Number(v ?? 0);
    });
  }

  async clear(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.redis.del(...keys.map((k) => PREFIX + k));
  }
}
