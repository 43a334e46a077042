/**
 * Login and sign-up throttling at the edge, before the users function computes a password hash
 * (so a throttled attempt costs no scrypt). State is an AttemptStore: Redis, shared by every
 * gateway, in the real mode; memory in the embedded mode.
 *
 * Keyed so that an attacker cannot lock a real user out:
 * - **(username, address)**: LOGIN_FREE_FAILURES attempts, then each next one waits 1 s, 2 s,
 *   4 s, … up to 15 min after the last. A success clears it. Someone guessing one account from
 *   one place gets ~15 tries in the first half hour and 4 an hour after that; the owner, from
 *   their own address, is not affected.
 * - **address, any usernames** (password spraying): LOGIN_ADDRESS_FREE_FAILURES failed logins
 *   within an hour, then 1 s, 2 s, … up to 10 min. Successes do not count.
 * - **username, any addresses** (a distributed attack on one account): past
 *   LOGIN_USER_FAILURE_BUDGET failures within an hour, an address that has never logged in to that
 *   account (in the last 30 days) gets one free attempt, then waits 30 s, 1 min, … up to 15 min,
 *   per address. That only slows: the owner's known addresses keep the normal rule, and a new
 *   address still gets its first attempt at once. Nothing ever blocks the username as a whole.
 * - **sign-up per address**: SIGNUPS_PER_ADDRESS_PER_HOUR, then one an hour after the last.
 *
 * Attempts are counted before the password is checked (one atomic step in the store), so
 * parallel requests cannot all pass a check made before any of them failed; a success or an
 * answer that was no attempt at all (a 400, a users function that could not be reached) is given
 * back. A login the users function refused because it was busy hashing (503 with Retry-After)
 * stays counted for the pair and the address: otherwise a flood would be refunded and come
 * straight back. Unknown usernames are throttled exactly like known ones, so the throttle tells
 * nobody which usernames exist.
 *
 * The ticket says whether the address has logged in to the account before (`knownAddress`): the
 * gateway passes that on, and the users function hashes such logins first.
 */

import type { Logger } from '@parley/runtime';
import { ParleyError } from '@parley/runtime';
import type { AttemptStore, BackoffPolicy } from '@parley/runtime/attempts/attempt-store';

export interface AuthThrottleLimits {
  /** Logins per (username, address) before the growing wait. */
  LOGIN_FREE_FAILURES: number;
  /** Failed logins per address (any usernames) within an hour before the growing wait. */
  LOGIN_ADDRESS_FREE_FAILURES: number;
  /** Failed logins per username (any addresses) within an hour before unknown addresses are slowed. */
  LOGIN_USER_FAILURE_BUDGET: number;
  /** Sign-ups per address before one an hour. */
  SIGNUPS_PER_ADDRESS_PER_HOUR: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The waits of each rule (the free counts come from the limits). */
export const THROTTLE_POLICIES = {
  pair: { baseMs: SECOND, maxMs: 15 * MINUTE, ttlMs: DAY },
  /** An address that never logged in to an account under attack. */
  unknownAddressUnderAttack: { free: 1, baseMs: 30 * SECOND, maxMs: 15 * MINUTE, ttlMs: DAY },
  address: { baseMs: SECOND, maxMs: 10 * MINUTE, ttlMs: HOUR },
  userFailuresTtlMs: HOUR,
  /** How long an address that logged in stays "known" for that account. */
  knownAddressTtlMs: 30 * DAY,
  signup: { baseMs: HOUR, maxMs: HOUR, ttlMs: HOUR },
} as const;

/** What the throttle counted for one attempt; handed back with its outcome. */
export interface Ticket {
  keys: { pair: string; address: string; user: string; known: string };
  /** The address has logged in to this account within THROTTLE_POLICIES.knownAddressTtlMs. */
  knownAddress: boolean;
}

export type Verdict<T> = { ok: true; ticket: T } | { ok: false; retryAfterMs: number };

/**
 * How a login ended, as the users function answered: 200, 401, 503 with Retry-After (too busy to
 * hash it), or anything else (a 400, an unreachable function).
 */
export type LoginOutcome = 'success' | 'failure' | 'busy' | 'other';

const part = (s: string) => encodeURIComponent(s);

export class AuthThrottle {
  constructor(
    private readonly store: AttemptStore,
    private readonly limits: AuthThrottleLimits,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Before a login is forwarded: counts it, or says how long to wait.
   * @param username as the client sent it (compared lower-cased, like the users function does)
   * @param address the client's address key (requestAddress)
   */
  async login(username: string, address: string): Promise<Verdict<Ticket>> {
    const u = part(username.toLowerCase());
    const a = part(address);
    const keys = {
      pair: `login:pair:${u}:${a}`,
      address: `login:address:${a}`,
      user: `login:user:${u}`,
      known: `login:known:${u}:${a}`,
    };
    const now = this.now();
    let knownAddress = false;
    const verdict = await this.guard(async () => {
      const [userFailures = 0, known = 0] = await this.store.counts([keys.user, keys.known], now);
      knownAddress = known > 0;
      const slowed = userFailures >= this.limits.LOGIN_USER_FAILURE_BUDGET && !knownAddress;
      const pair: BackoffPolicy = slowed
        ? THROTTLE_POLICIES.unknownAddressUnderAttack
        : { ...THROTTLE_POLICIES.pair, free: this.limits.LOGIN_FREE_FAILURES };
      const byAddress = {
        ...THROTTLE_POLICIES.address,
        free: this.limits.LOGIN_ADDRESS_FREE_FAILURES,
      };
      return this.store.attempt(
        [
          { key: keys.pair, policy: pair },
          { key: keys.address, policy: byAddress },
        ],
        now,
      );
    });
    return verdict.ok ? { ok: true, ticket: { keys, knownAddress } } : verdict;
  }

  /** After the users function answered a counted login. Never throws: a login is not failed for it. */
  async loginDone(ticket: Ticket, outcome: LoginOutcome): Promise<void> {
    const { keys } = ticket;
    const now = this.now();
    try {
      if (outcome === 'success') {
        // The pair starts over; the address's count is of failures, and this was none.
        await Promise.all([
          this.store.clear([keys.pair]),
          this.store.refund([keys.address]),
          this.store.add(keys.known, now, THROTTLE_POLICIES.knownAddressTtlMs),
        ]);
      } else if (outcome === 'failure') {
        await this.store.add(keys.user, now, THROTTLE_POLICIES.userFailuresTtlMs);
      } else if (outcome === 'busy') {
        // Counted for the pair and the address (not a failure of the username's).
      } else {
        await this.store.refund([keys.pair, keys.address]);
      }
    } catch (err) {
      this.log.warn({ err, outcome }, 'login throttle not updated');
    }
  }

  /** Before a sign-up is forwarded: counts it, or says how long to wait. */
  async signup(address: string): Promise<Verdict<string>> {
    const key = `signup:address:${part(address)}`;
    const policy = { ...THROTTLE_POLICIES.signup, free: this.limits.SIGNUPS_PER_ADDRESS_PER_HOUR };
    const verdict = await this.guard(() => this.store.attempt([{ key, policy }], this.now()));
    return verdict.ok ? { ok: true, ticket: key } : verdict;
  }

  /** After a counted sign-up: one that created nothing and cost nothing (400, 5xx) is given back. */
  async signupDone(ticket: string, counted: boolean): Promise<void> {
    if (counted) return;
    await this.store.refund([ticket]).catch((err) => {
      this.log.warn({ err }, 'sign-up throttle not updated');
    });
  }

  /** The store is down: no login is let through unthrottled, none is refused as if throttled. */
  private async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new ParleyError('unavailable', 'sign-in is unavailable right now; try again shortly', {
        cause: err,
      });
    }
  }
}
