/**
 * Per-user budgets, shared by every socket (and HTTP request) of one user on this gateway.
 *
 * A socket's own token bucket (ws/session.ts) stops one socket; these stop one *user*, however
 * many sockets they open: frames of any kind, `send`, `sync`, `typing`/`read`, and the bytes of
 * messages the user is sent by `sync` and history (what made `sync` an amplifier: a 100-byte
 * frame asking for 200 messages of 4,000 characters). A refusal says how long to wait.
 *
 * A user's state is dropped once every bucket in it is full again — a full bucket behaves exactly
 * like a new one — and never before: closing the last socket and reconnecting does not reset a
 * budget that is used up.
 *
 * @example
 * const budgets = new UserBudgets(limits);
 * const r = budgets.take(userId, 'send');
 * if (!r.ok) refuse('rate_limited', { retryAfterMs: r.retryAfterMs });
 */
import type { GatewayLimits } from './config';
import { TokenBucket } from './middleware/rate-limit';

/** What a user spends: frames of any kind, and frames of some kinds on top. */
export type BudgetKind = 'frames' | 'send' | 'sync' | 'typingRead';

export type Grant = { ok: true } | { ok: false; retryAfterMs: number };

export type BudgetLimits = Pick<
  GatewayLimits,
  | 'RATE_USER_FRAMES_PER_SEC'
  | 'RATE_USER_BURST'
  | 'RATE_SEND_PER_SEC'
  | 'RATE_SEND_BURST'
  | 'RATE_SYNC_PER_SEC'
  | 'RATE_SYNC_BURST'
  | 'RATE_TYPING_READ_PER_SEC'
  | 'RATE_TYPING_READ_BURST'
  | 'RATE_HISTORY_BYTES_PER_SEC'
  | 'RATE_HISTORY_BYTES_BURST'
>;

interface UserState {
  frames: TokenBucket;
  send: TokenBucket;
  sync: TokenBucket;
  typingRead: TokenBucket;
  bytes: TokenBucket;
}

/** How often, at most, states whose buckets are all full again are dropped. */
const SWEEP_EVERY_MS = 10_000;
const OK: Grant = { ok: true };

export class UserBudgets {
  private readonly users = new Map<string, UserState>();
  private lastSweep: number;

  constructor(
    private readonly limits: BudgetLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastSweep = now();
  }

  /** Users with a budget in use (for tests and metrics). */
  get size(): number {
    return this.users.size;
  }

  /** Takes one frame of `kind` from `userId`'s budget. */
  take(userId: string, kind: BudgetKind): Grant {
    const bucket = this.state(userId)[kind];
    return bucket.take() ? OK : { ok: false, retryAfterMs: bucket.msUntil(1) };
  }

  /**
   * Takes `bytes` of messages sent to `userId` (an HTTP history page, say): granted while at
   * least that many — or the whole burst, for a larger answer — are left.
   *
   * @example
   * const body = JSON.stringify(page);
   * const r = budgets.takeBytes(userId, Buffer.byteLength(body));
   * if (!r.ok) return c.json({ error: { code: 'rate_limited', message, retryAfterMs: r.retryAfterMs } }, 429);
   */
  takeBytes(userId: string, bytes: number): Grant {
    const bucket = this.state(userId).bytes;
    const need = Math.min(bytes, this.limits.RATE_HISTORY_BYTES_BURST);
    if (bucket.available() < need) return { ok: false, retryAfterMs: bucket.msUntil(need) };
    // An answer larger than the burst leaves the bucket in debt; it refills from there.
    bucket.spend(bytes);
    return OK;
  }

  /** Bytes `userId` may be sent now, for an answer that stops early to fit (a `sync`). */
  bytesAvailable(userId: string): number {
    return Math.max(0, Math.floor(this.state(userId).bytes.available()));
  }

  /** Records `bytes` sent to `userId` (at most what `bytesAvailable` said). */
  spendBytes(userId: string, bytes: number): void {
    this.state(userId).bytes.spend(bytes);
  }

  /** Milliseconds until `bytes` (at most the burst) are available to `userId`. */
  msUntilBytes(userId: string, bytes: number): number {
    return this.state(userId).bytes.msUntil(bytes);
  }

  private state(userId: string): UserState {
    this.sweep();
    let s = this.users.get(userId);
    if (!s) {
      const l = this.limits;
      const bucket = (perSecond: number, burst: number) =>
        new TokenBucket(perSecond, burst, this.now);
      s = {
        frames: bucket(l.RATE_USER_FRAMES_PER_SEC, l.RATE_USER_BURST),
        send: bucket(l.RATE_SEND_PER_SEC, l.RATE_SEND_BURST),
        sync: bucket(l.RATE_SYNC_PER_SEC, l.RATE_SYNC_BURST),
        typingRead: bucket(l.RATE_TYPING_READ_PER_SEC, l.RATE_TYPING_READ_BURST),
        bytes: bucket(l.RATE_HISTORY_BYTES_PER_SEC, l.RATE_HISTORY_BYTES_BURST),
      };
      this.users.set(userId, s);
    }
    return s;
  }

  /** Drops the states that are as good as new, at most every SWEEP_EVERY_MS. */
  private sweep(): void {
    const t = this.now();
    if (t - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = t;
    for (const [userId, s] of this.users) {
      if (
        s.frames.isFull() &&
        s.send.isFull() &&
        s.sync.isFull() &&
        s.typingRead.isFull() &&
        s.bytes.isFull()
      )
        this.users.delete(userId);
    }
  }
}
