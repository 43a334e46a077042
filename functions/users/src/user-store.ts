/**
 * The User service's storage port. Usernames are unique across the whole
 * store (every shard), compared exactly: callers pass them lower-cased.
 *
 * Adapters: `user-store.memory.ts` (embedded mode, tests) and
 * `user-store.mysql.ts` (real mode, sharded by user id with a global
 * username index); both pass `user-store.contract.ts`.
 */
import type { User } from '@parley/protocol';

/** A user as stored: the public user plus its password hash (never leaves this service). */
export interface UserRecord extends User {
  passwordHash: string;
}

export interface UserStore {
  /**
   * Stores a new user. Throws ParleyError('username_taken') when the username
   * exists — also when two sign-ups race for it: exactly one wins.
   */
  create(user: UserRecord): Promise<User>;
  byId(id: string): Promise<User | null>;
  /** The users among `ids` that exist, in the order of `ids`, without duplicates. */
  byIds(ids: readonly string[]): Promise<User[]>;
  /** With the password hash, for login. */
  byUsername(username: string): Promise<UserRecord | null>;
  /**
   * The users among `usernames` (compared exactly) that exist, in the order of
   * `usernames`, without duplicates; no password hashes (notify resolves `@mentions`).
   */
  byUsernames(usernames: readonly string[]): Promise<User[]>;
  /** Users whose username starts with `prefix` (taken literally), sorted by username. */
  searchByPrefix(prefix: string, limit: number): Promise<User[]>;
}

/** The public view of a record. */
export function publicUser(r: User): User {
  return { id: r.id, username: r.username, displayName: r.displayName };
}

/** Binary order, as `utf8mb4_bin` sorts (identical for the ASCII usernames the protocol allows). */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
