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
 * The recent cache in Redis: per room a sorted set `<prefix><roomId>` scored
 * by seq, whose members are the messages' JSON, trimmed to the newest RECENT_MAX.
 */
export class RedisRecentCache implements RecentCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'parley:recent:',
  ) {}

  async add(message: Message): Promise<void> {
    const key = this.prefix + message.roomId;
    // Replace whatever holds this seq (a re-add, or a later edit), then trim the oldest.
    const results = await this.redis
      .multi()
      .zremrangebyscore(key, message.seq, message.seq)
      .zadd(key, message.seq, encode(message))
      .zremrangebyrank(key, 0, -(RECENT_MAX + 1))
      .expire(key, RECENT_TTL_SECONDS)
      .exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) {
      throw new ParleyError('unavailable', 'recent cache: add failed', { cause: failed?.[0] });
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
