import { type Message, MessageSchema } from '@parley/protocol';
import { ParleyError } from '@parley/runtime';
import type { Redis } from 'ioredis';
import type { Page } from './message-store';
import { RECENT_MAX, type RecentCache, type RecentQuery } from './recent-cache';
import { exactPage, windowOf } from './recent-window';

/** An idle room's list expires; the next page read falls back to MySQL. */
export const RECENT_TTL_SECONDS = 7 * 24 * 3600;

/** The message JSON with a fixed field order, so the same message is the same sorted-set member. */
const encode = (m: Message): string =>
  JSON.stringify({
    id: m.id,
    roomId: m.roomId,
    seq: m.seq,
    senderId: m.senderId,
    body: m.body,
    ts: m.ts,
    clientMsgId: m.clientMsgId,
    editedTs: m.editedTs,
    deleted: m.deleted,
  });

function decode(member: string): Message | undefined {
  try {
    const parsed = MessageSchema.safeParse(JSON.parse(member));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One add, atomically: replace whatever holds this seq (a re-add, or a later
 * edit), trim the oldest, renew the expiry. A script rather than MULTI/EXEC
 * because it is one command, which the client's auto-pipelining sends
 * together with the other commands of the same turn (a MULTI always goes on
 * its own): the adds of a whole group commit leave in one write.
 * KEYS[1] the room's set; ARGV seq, member, the trim's stop rank, ttl.
 */
const ADD_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

/** The client with ADD_SCRIPT defined on it (ioredis `defineCommand`: EVALSHA, EVAL when not loaded). */
type WithRecentAdd = Redis & {
  parleyRecentAdd(
    key: string,
    seq: number,
    member: string,
    stop: number,
    ttl: number,
  ): Promise<unknown>;
};

/**
 * The recent cache in Redis: per room a sorted set `<prefix><roomId>` scored
 * by seq, whose members are the messages' JSON, trimmed to the newest RECENT_MAX.
 */
export class RedisRecentCache implements RecentCache {
  private readonly scripted: WithRecentAdd;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'parley:recent:',
  ) {
    // Defined on the shared client once; every cache over it uses the same command.
    if (!('parleyRecentAdd' in redis))
      redis.defineCommand('parleyRecentAdd', { numberOfKeys: 1, lua: ADD_SCRIPT });
    this.scripted = redis as WithRecentAdd;
  }

  async add(message: Message): Promise<void> {
    try {
      await this.scripted.parleyRecentAdd(
        this.prefix + message.roomId,
        message.seq,
        encode(message),
        -(RECENT_MAX + 1),
        RECENT_TTL_SECONDS,
      );
    } catch (err) {
      throw new ParleyError('unavailable', 'recent cache: add failed', { cause: err });
    }
  }

  async range(roomId: string, query: RecentQuery): Promise<Page | undefined> {
    const w = windowOf(query);
    if (!w) return undefined;
    if (w.to < w.from) return exactPage(w, []);
    const members = await this.redis.zrangebyscore(this.prefix + roomId, w.from, w.through);
    const cached: Message[] = [];
    for (const member of members) {
      const message = decode(member);
      // An entry we cannot read is a gap, not an error: MySQL answers instead.
      if (!message) return undefined;
      cached.push(message);
    }
    return exactPage(w, cached);
  }
}
