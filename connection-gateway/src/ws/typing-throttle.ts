/**
 * `typing` frames are relayed at most once per LIMITS.typingThrottleMs per (user, room): a client
 * that sends one per keystroke costs the room one frame per 2.5 s. Memory is bounded: entries
 * older than the throttle are dropped once there are many.
 */
import { LIMITS } from '@parley/protocol';

const PRUNE_AT = 10_000;

export class TypingThrottle {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs: number = LIMITS.typingThrottleMs,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when this typing frame is to be relayed (and starts a new interval). */
  take(userId: string, roomId: string): boolean {
    const t = this.now();
    const key = `${userId}\n${roomId}`;
    const at = this.last.get(key);
    if (at !== undefined && t - at < this.intervalMs) return false;
    if (this.last.size >= PRUNE_AT) {
      for (const [k, v] of this.last) if (t - v >= this.intervalMs) this.last.delete(k);
    }
    this.last.set(key, t);
    return true;
  }
}
