/**
 * Presence in Redis, shared by every gateway (docs/notifications.md):
 * - `parley:presence:gateways`: sorted set, gateway id → its last beat (ms);
 * - `parley:presence:gw:<id>`: the users with a socket on that gateway;
 * - `parley:presence:user:<id>`: the gateways where that user has a socket.
 * A gateway's beat is one ZADD whatever its user count. Connect, disconnect and the sweep of a
 * dead gateway are Lua scripts, so the "was anyone else live?" check and the change are one step.
 * (The keys of one script hash to different slots: a Redis Cluster would need a common hash tag.)
 */
import type { Redis } from 'ioredis';
import type { PresenceStore } from './presence-store';

const GATEWAYS = 'parley:presence:gateways';
const gwKey = (id: string) => `parley:presence:gw:${id}`;
const userKey = (id: string) => `parley:presence:user:${id}`;

/** Lua: is a gateway of the set KEYS[1] other than `me` live at `since`? (KEYS[2]: the beats.) */
const LIVE_ELSEWHERE = `
local function liveElsewhere(userSet, beats, me, since)
  for _, g in ipairs(redis.call('SMEMBERS', userSet)) do
    if g ~= me then
      local s = redis.call('ZSCORE', beats, g)
      if s and tonumber(s) > since then return true end
    end
  end
  return false
end
`;

// KEYS: user set, gateway set, beats. ARGV: gateway id, user id, now, ttl. 1 = came online.
// It never writes the beat: a gateway swept while alive must find out at its next beat (ZADD
// answering 1) and register its users again, even if a socket connected in between.
const CONNECT = `${LIVE_ELSEWHERE}
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local before = liveElsewhere(KEYS[1], KEYS[3], ARGV[1], now - ttl)
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if before then return 0 end
return 1
`;

// KEYS: user set, gateway set, beats. ARGV: gateway id, user id, now, ttl. 1 = went offline.
const DISCONNECT = `${LIVE_ELSEWHERE}
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
if liveElsewhere(KEYS[1], KEYS[3], ARGV[1], now - ttl) then return 0 end
return 1
`;

// KEYS: the dead gateway's set, beats. ARGV: dead gateway id, now, ttl, batch, user key prefix.
// Takes up to `batch` users off the dead gateway; answers those now offline. Called until its set
// is empty (SPOP), so a gateway of 10,000 users never blocks Redis in one long script.
const SWEEP_BATCH = `${LIVE_ELSEWHERE}
local since = tonumber(ARGV[2]) - tonumber(ARGV[3])
local users = redis.call('SPOP', KEYS[1], tonumber(ARGV[4]))
local offline = {}
for _, u in ipairs(users) do
  local key = ARGV[5] .. u
  redis.call('SREM', key, ARGV[1])
  if not liveElsewhere(key, KEYS[2], ARGV[1], since) then table.insert(offline, u) end
end
return offline
`;

// KEYS: beats. ARGV: gateway id, cutoff. 1 when this caller removed a beat still older than the
// cutoff (the gateway may have beaten since it was listed as dead).
const CLAIM = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) <= tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
`;

const SWEEP_BATCH_SIZE = 500;

export class RedisPresenceStore implements PresenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly gatewayId: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async connect(userId: string): Promise<boolean> {
    const r = await this.redis.eval(
      CONNECT,
      3,
      userKey(userId),
      gwKey(this.gatewayId),
      GATEWAYS,
      this.gatewayId,
      userId,
      this.now(),
      this.ttlMs,
    );
    return r === 1;
  }

  async disconnect(userId: string): Promise<boolean> {
    const r = await this.redis.eval(
      DISCONNECT,
      3,
      userKey(userId),
      gwKey(this.gatewayId),
      GATEWAYS,
      this.gatewayId,
      userId,
      this.now(),
      this.ttlMs,
    );
    return r === 1;
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const pipe = this.redis.pipeline();
    pipe.zrangebyscore(GATEWAYS, `(${this.now() - this.ttlMs}`, '+inf');
    for (const u of userIds) pipe.smembers(userKey(u));
    const results = (await pipe.exec()) ?? [];
    const [liveErr, live] = results[0] ?? [];
    if (liveErr) throw liveErr;
    const liveSet = new Set(live as string[]);
    const out = new Set<string>();
    userIds.forEach((u, i) => {
      const [err, gws] = results[i + 1] ?? [];
      if (err) throw err;
      if ((gws as string[]).some((g) => liveSet.has(g))) out.add(u);
    });
    return out;
  }

  async beat(): Promise<boolean> {
    // ZADD answers 1 when the member is new: this gateway's beat had been swept.
    return (await this.redis.zadd(GATEWAYS, this.now(), this.gatewayId)) === 1;
  }

  async sweep(): Promise<string[]> {
    const now = this.now();
    const dead = await this.redis.zrangebyscore(GATEWAYS, '-inf', now - this.ttlMs);
    const offline: string[] = [];
    for (const g of dead) {
      // One sweeper per dead gateway: whoever removes its beat, if it is still old.
      if ((await this.redis.eval(CLAIM, 1, GATEWAYS, g, now - this.ttlMs)) !== 1) continue;
      for (;;) {
        const batch = (await this.redis.eval(
          SWEEP_BATCH,
          2,
          gwKey(g),
          GATEWAYS,
          g,
          now,
          this.ttlMs,
          SWEEP_BATCH_SIZE,
          userKey(''),
        )) as string[];
        offline.push(...batch);
        if (batch.length === 0 && (await this.redis.scard(gwKey(g))) === 0) break;
      }
    }
    return offline;
  }
}
