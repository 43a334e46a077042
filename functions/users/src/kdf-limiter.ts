/**
 * A bound on the password hashes (scrypt, ~60–120 ms of CPU and 32 MiB each) one process computes
 * at once. Without it a burst of logins queues on libuv's thread pool and on the CPU, and every
 * login — a real user's too — waits behind all of them (100 parallel bad-login loops made one
 * real login take 15–30 s). With it, at most `concurrency` hashes run, at most `queue` wait for a
 * slot, and anything beyond is refused at once with `503 unavailable` and `Retry-After`, so a
 * client learns in milliseconds to come back instead of waiting seconds.
 *
 * The gateway's login throttle stops most floods before they get here; this is the backstop for
 * what it lets through (many addresses, many instances). Work marked `priority` (a login from an
 * address that has logged in to that account before, as the gateway says) has a line of its own,
 * served first: a flood from strangers fills the other line and is refused, the account's owner
 * still gets the next free slot.
 *
 * @example const kdf = new KdfLimiter({ concurrency: 2, queue: 16 }); await kdf.run(() => hashPassword(pw));
 */
import { ParleyError } from '@parley/runtime';

export interface KdfLimits {
  /** Hashes computed at once (about the process's cores: each one keeps a core busy). */
  concurrency: number;
  /** Hashes that may wait for a slot, in each of the two lines; past it, 503. */
  queue: number;
}

/** What a refused caller is told to wait, in seconds: a few hashes' time, rounded up. */
export const KDF_RETRY_AFTER_SECONDS = 1;

export class KdfBusyError extends ParleyError {
  readonly retryAfterSeconds = KDF_RETRY_AFTER_SECONDS;
  constructor() {
    super('unavailable', 'too many sign-ins at once; try again in a moment');
  }
}

export class KdfLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly waitingFirst: (() => void)[] = [];

  constructor(private readonly limits: KdfLimits) {
    if (limits.concurrency < 1) throw new Error('KdfLimiter: concurrency must be at least 1');
  }

  /** Hashes running now and waiting now (for metrics and tests). */
  get load(): { running: number; waiting: number; waitingFirst: number } {
    return {
      running: this.running,
      waiting: this.waiting.length,
      waitingFirst: this.waitingFirst.length,
    };
  }

  /**
   * Runs `work` when a slot is free; throws KdfBusyError at once when its line is full.
   * @param priority wait in the line that is served first
   */
  async run<T>(work: () => Promise<T>, priority = false): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      const line = priority ? this.waitingFirst : this.waiting;
      if (line.length >= this.limits.queue) throw new KdfBusyError();
      // The slot is handed over by the finishing caller (running stays counted), so no
      // newcomer can take it between the release and this caller's turn.
      await new Promise<void>((resolve) => line.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waitingFirst.shift() ?? this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
