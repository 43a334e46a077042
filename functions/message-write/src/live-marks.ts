/**
 * Which stored messages have been shown to their room live. A redelivered
 * send (the source retrying, or the client resending the same clientMsgId)
 * repeats the room fan-out only when the first attempt never got that far —
 * it died between the commit and the publish — so a retry normally costs the
 * room nothing, and a crash there still ends with everyone seeing the message
 * live. Best effort: a mark that is missing (expired, Redis restarted empty)
 * means one repeated `message` frame, which clients drop by seq.
 */
import type { Redis } from 'ioredis';

export interface LiveMarks {
  mark(messageId: string): Promise<void>;
  has(messageId: string): Promise<boolean>;
}

/** Long enough for any redelivery or client retry; marks are tiny. */
export const LIVE_MARK_TTL_SECONDS = 24 * 3600;

export class RedisLiveMarks implements LiveMarks {
  constructor(private readonly redis: Redis) {}
  async mark(messageId: string): Promise<void> {
    await this.redis.set(`live:${messageId}`, '1', 'EX', LIVE_MARK_TTL_SECONDS);
  }
  async has(messageId: string): Promise<boolean> {
    return (await this.redis.exists(`live:${messageId}`)) === 1;
  }
}

/** The embedded mode's and the tests' marks: the most recent `max` ids. */
export class MemoryLiveMarks implements LiveMarks {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 100_000) {}
  async mark(messageId: string): Promise<void> {
    this.ids.add(messageId);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
  }
  async has(messageId: string): Promise<boolean> {
    return this.ids.has(messageId);
  }
}
