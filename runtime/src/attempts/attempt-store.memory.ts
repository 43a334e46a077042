/**
 * Attempt counters in one process's memory (the embedded mode; one gateway). Expired counters are
 * dropped when touched and swept now and then, so a flood of distinct keys (random usernames)
 * cannot grow the map beyond what the last `ttlMs` brought.
 */
import {
  type AttemptStore,
  type AttemptVerdict,
  type BackoffPolicy,
  waitAfter,
} from './attempt-store';

interface Counter {
  n: number;
  last: number;
  expiresAt: number;
}

/** Sweep expired counters every this many writes. */
const SWEEP_EVERY = 1000;

export class MemoryAttemptStore implements AttemptStore {
  private readonly counters = new Map<string, Counter>();
  private writes = 0;

  /** Counters held (for tests). */
  get size(): number {
    return this.counters.size;
  }

  async attempt(
    keys: readonly { key: string; policy: BackoffPolicy }[],
    now: number,
  ): Promise<AttemptVerdict> {
    let longest = 0;
    for (const { key, policy } of keys) {
      const c = this.live(key, now);
      if (!c) continue;
      longest = Math.max(longest, c.last + waitAfter(policy, c.n) - now);
    }
    if (longest > 0) return { ok: false, retryAfterMs: Math.ceil(longest) };
    for (const { key, policy } of keys) {
      const c = this.live(key, now);
      this.write(key, { n: (c?.n ?? 0) + 1, last: now, expiresAt: now + policy.ttlMs }, now);
    }
    return { ok: true };
  }

  async refund(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const c = this.counters.get(key);
      if (c && c.n > 0) c.n--;
    }
  }

  async add(key: string, now: number, ttlMs: number): Promise<void> {
    const c = this.live(key, now);
    this.write(key, { n: (c?.n ?? 0) + 1, last: c?.last ?? now, expiresAt: now + ttlMs }, now);
  }

  async counts(keys: readonly string[], now: number): Promise<number[]> {
    return keys.map((key) => this.live(key, now)?.n ?? 0);
  }

  async clear(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.counters.delete(key);
  }

  private live(key: string, now: number): Counter | undefined {
    const c = this.counters.get(key);
    if (c && c.expiresAt <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  private write(key: string, c: Counter, now: number): void {
    this.counters.set(key, c);
    if (++this.writes % SWEEP_EVERY !== 0) return;
    for (const [k, v] of this.counters) if (v.expiresAt <= now) this.counters.delete(k);
  }
}
