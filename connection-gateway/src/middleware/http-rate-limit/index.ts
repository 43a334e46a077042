/**
 * Request rate limits of the HTTP API: a token bucket per key (a client address, a user), kept
 * per gateway in memory — each gateway limits what reaches it, so with N gateways behind a
 * balancer a client gets up to N times the rate, which is fine for a limit whose job is to keep
 * one client from monopolising a process. A refusal is `429 rate_limited` with `Retry-After`.
 *
 * Buckets that are full again are dropped (a full bucket behaves like a new one), so the map
 * holds only the keys that sent something in the last `burst / perSecond` seconds.
 *
 * @example api.use('*', rateLimit(new KeyedBuckets(20, 100), (c) => c.var.addressKey));
 */
import type { Context, MiddlewareHandler } from 'hono';
import { TokenBucket } from '../rate-limit';

/** How often, at most, buckets that are full again are dropped. */
const SWEEP_EVERY_MS = 10_000;

export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastSweep = now();
  }

  /** Keys with a bucket in use (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token from `key`'s bucket; when it is empty, how long until it has one. */
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number } {
    this.sweep();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.perSecond, this.burst, this.now);
      this.buckets.set(key, bucket);
    }
    return bucket.take() ? { ok: true } : { ok: false, retryAfterMs: bucket.msUntil(1) };
  }

  private sweep(): void {
    const t = this.now();
    if (t - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = t;
    for (const [key, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(key);
  }
}

/**
 * The protocol's answer to a request over a limit: `429 {error: {code: 'rate_limited', message,
 * retryAfterMs}}` with `Retry-After` in whole seconds (at least 1).
 */
export function rateLimited(c: Context, retryAfterMs: number, message: string): Response {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return c.json(
    {
      error: { code: 'rate_limited', message, retryAfterMs: Math.max(0, Math.ceil(retryAfterMs)) },
    },
    429,
    { 'retry-after': String(seconds) },
  );
}

/**
 * Refuses a request whose key's bucket is empty. `keyOf` runs after the middlewares before it
 * (the address, or the authenticated user).
 */
export function rateLimit(
  buckets: KeyedBuckets,
  keyOf: (c: Context) => string,
  what: string,
  onRefused?: () => void,
): MiddlewareHandler {
  return async function limitRate(c, next) {
    const r = buckets.take(keyOf(c));
    if (!r.ok) {
      onRefused?.();
      return rateLimited(c, r.retryAfterMs, `too many requests ${what}; slow down`);
    }
    await next();
  };
}
