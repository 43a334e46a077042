/**
 * Does the user a token names exist? A token is signed by Parley, but it outlives what it names
 * when the user store is reset (an embedded-mode restart with a fixed JWT_SECRET, a test
 * database dropped): such a token must get 401, not an empty session.
 *
 * Asks the users function's internal batch lookup (`/internal/users?ids=`) and remembers a yes
 * for TTL_MS. Users are never deleted today, so a remembered yes cannot go stale; when deleting
 * users arrives, this TTL is how long a deleted user's token keeps working here (or the delete
 * must reach this cache). A no is not remembered (it is rare, and the rate limits bound it).
 * Concurrent checks of one id share one lookup, and the ids checked in one turn of the event loop
 * (a burst of handshakes: reconnects after a deploy) go in one lookup of up to
 * KNOWN_USERS_BATCH ids, not one each. An unreachable or failing users function is
 * `503 unavailable`, never a 401 that would log a real user out.
 *
 * @example const known = new KnownUsers(deps.users); if (!(await known.exists(claims.userId))) …
 */
import type { User } from '@parley/protocol';
import { ParleyError, type ServiceClient } from '@parley/runtime';

/** How long a user found is remembered. */
export const KNOWN_USER_TTL_MS = 10 * 60_000;
/** Most users remembered; the oldest are forgotten first. */
export const KNOWN_USERS_MAX = 100_000;
/** Most ids one lookup asks for (the users function takes up to 200). */
export const KNOWN_USERS_BATCH = 100;

interface Waiter {
  resolve: (exists: boolean) => void;
  reject: (err: unknown) => void;
}

export class KnownUsers {
  private readonly found = new Map<string, number>();
  private readonly pending = new Map<string, Promise<boolean>>();
  /** Ids to ask for at the end of this turn of the event loop (setImmediate), with their waiters. */
  private batch: Map<string, Waiter> | undefined;

  constructor(
    private readonly users: ServiceClient,
    private readonly opts: { ttlMs: number; max: number } = {
      ttlMs: KNOWN_USER_TTL_MS,
      max: KNOWN_USERS_MAX,
    },
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the users function knows `userId`. Throws ParleyError('unavailable') when it cannot say. */
  async exists(userId: string): Promise<boolean> {
    const until = this.found.get(userId);
    if (until !== undefined && until > this.now()) return true;
    let lookup = this.pending.get(userId);
    if (!lookup) {
      lookup = new Promise<boolean>((resolve, reject) => this.ask(userId, { resolve, reject }));
      const done = () => this.pending.delete(userId);
      lookup.then(done, done);
      this.pending.set(userId, lookup);
    }
    return lookup;
  }

  /** Adds an id to this turn's lookup; a full one is closed, and the next id starts another. */
  private ask(userId: string, waiter: Waiter): void {
    if (!this.batch) {
      const batch = new Map<string, Waiter>();
      this.batch = batch;
      setImmediate(() => {
        if (this.batch === batch) this.batch = undefined;
        void this.lookup(batch);
      });
    }
    this.batch.set(userId, waiter);
    if (this.batch.size >= KNOWN_USERS_BATCH) this.batch = undefined; // its lookup is scheduled
  }

  private async lookup(batch: Map<string, Waiter>): Promise<void> {
    try {
      const ids = [...batch.keys()];
      const answer = await this.users.getJson<{ users: User[] }>(
        `/internal/users?ids=${ids.map(encodeURIComponent).join(',')}`,
      );
      // A 404 is a users function without the route: it cannot say, which is not "no such user".
      if (!answer) throw new ParleyError('unavailable', 'the user directory is unavailable');
      const known = new Set(answer.users.map((u) => u.id));
      for (const [id, w] of batch) {
        if (known.has(id)) this.remember(id);
        w.resolve(known.has(id));
      }
    } catch (err) {
      for (const w of batch.values()) w.reject(err);
    }
  }

  private remember(userId: string): void {
    this.found.delete(userId); // re-inserted last: Map order is the eviction order
    this.found.set(userId, this.now() + this.opts.ttlMs);
    if (this.found.size > this.opts.max) {
      const oldest = this.found.keys().next().value;
      if (oldest !== undefined) this.found.delete(oldest);
    }
  }
}
