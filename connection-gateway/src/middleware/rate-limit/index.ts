/**
 * A token bucket: `burst` tokens, refilled at `perSecond`. One per
 * connection, so one noisy socket cannot starve the others.
 *
 * @example const bucket = new TokenBucket(20, 200); if (!bucket.take()) refuse('rate_limited');
 */
/** The default clock of every bucket: one function, not a closure per bucket (one per socket). */
const monotonicNow = () => performance.now();

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    return this.takeMany(1);
  }

  /** Takes `n` tokens if that many are there; false (and takes none) otherwise. */
  takeMany(n: number): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens whatever is left: below zero the bucket is in debt, and refills from there.
   * For a cost known only afterwards (the bytes of an answer larger than the burst).
   */
  spend(n: number): void {
    this.refill();
    this.tokens -= n;
  }

  /** Tokens there now (fractions included). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Milliseconds until `n` tokens (at most the burst) are there; 0 when they are now. */
  msUntil(n = 1): number {
    const missing = Math.min(n, this.burst) - this.available();
    return missing <= 0 ? 0 : Math.ceil((missing / this.perSecond) * 1000);
  }

  /** True when the bucket is full: a new bucket would behave exactly like this one. */
  isFull(): boolean {
    return this.available() >= this.burst;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
  }
}
