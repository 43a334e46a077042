/**
 * Attempt counters with exponential backoff, for throttling what is expensive or guessable
 * (logins, sign-ups). A counter per key remembers how many attempts were counted and when the
 * last one was; its policy says how many are free and how long to wait after that. State that
 * several gateways must share lives in Redis (`attempt-store.redis.ts`); the embedded mode keeps
 * it in memory (`attempt-store.memory.ts`). Both pass `attempt-store.contract.ts`.
 *
 * Times are milliseconds since the epoch, passed in by the caller (every gateway's clock is
 * NTP-synced; the shortest wait is a second), so policies are testable with a fake clock.
 */

export interface BackoffPolicy {
  /** Attempts counted before any wait. */
  free: number;
  /** The wait after the first attempt beyond `free`; it doubles with every further attempt. */
  baseMs: number;
  /** The longest wait. */
  maxMs: number;
  /** A counter is forgotten this long after the last attempt it counted. */
  ttlMs: number;
}

export type AttemptVerdict = { ok: true } | { ok: false; retryAfterMs: number };

export interface AttemptStore {
  /**
   * One step, atomic across `keys`: if every key's policy allows an attempt at `now`, counts it on
   * every key and says ok; otherwise counts nothing and says how long until all would allow one.
   * A refused attempt does not push the wait further out: a client that honours Retry-After gets
   * in.
   */
  attempt(
    keys: readonly { key: string; policy: BackoffPolicy }[],
    now: number,
  ): Promise<AttemptVerdict>;
  /** Takes one counted attempt back from each key (it turned out not to count); never below 0. */
  refund(keys: readonly string[]): Promise<void>;
  /** Adds one to a plain counter of `key` that is forgotten `ttlMs` after its last addition. */
  add(key: string, now: number, ttlMs: number): Promise<void>;
  /** The counts of `keys`, 0 for an absent or forgotten one. */
  counts(keys: readonly string[], now: number): Promise<number[]>;
  /** Forgets `keys`. */
  clear(keys: readonly string[]): Promise<void>;
}

/**
 * How long after the last attempt the next may come, once `count` attempts are counted.
 * @example waitAfter({ free: 5, baseMs: 1000, maxMs: 60_000, ttlMs: 1 }, 7) // 4000
 */
export function waitAfter(policy: BackoffPolicy, count: number): number {
  if (count < policy.free) return 0;
  return Math.min(policy.maxMs, policy.baseMs * 2 ** (count - policy.free));
}
