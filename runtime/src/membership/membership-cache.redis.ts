import type { Redis } from 'ioredis';
import type { MembershipCache } from './membership-cache';

/**
 * Membership in Redis: a set per room (`parley:members:<roomId>`). An empty
 * room still needs to be "known", so a sentinel member marks a cached room;
 * it is never a user id (ids cannot contain `#`).
 */
const SENTINEL = '#cached';
const key = (roomId: string) => `parley:members:${roomId}`;
const FILL_IF_ABSENT = `if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SADD', KEYS[1], unpack(ARGV)) end`;

export class RedisMembershipCache implements MembershipCache {
  constructor(private readonly redis: Redis) {}

  async isMember(roomId: string, userId: string) {
    // One atomic command (Redis 6.2+) rather than a MULTI, so the client's
    // auto-pipelining sends the checks of concurrent sends in one write.
    const [known, member] = await this.redis.smismember(key(roomId), SENTINEL, userId);
    if (!known) return undefined;
    return member === 1;
  }
  async members(roomId: string) {
    const all = await this.redis.smembers(key(roomId));
    if (!all.includes(SENTINEL)) return undefined;
    return all.filter((m) => m !== SENTINEL);
  }
  async fillIfAbsent(roomId: string, userIds: string[]) {
    // One atomic step: check and fill, so a concurrent setMembers is never overwritten.
    await this.redis.eval(FILL_IF_ABSENT, 1, key(roomId), SENTINEL, ...userIds);
  }
  async setMembers(roomId: string, userIds: string[]) {
    await this.redis
      .multi()
      .del(key(roomId))
      .sadd(key(roomId), SENTINEL, ...userIds)
      .exec();
  }
}
