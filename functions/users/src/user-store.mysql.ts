/**
 * The user store of the real mode, on a ShardedMysql (USERS_DB_SHARDS).
 *
 * - `users` rows live on the shard of the user id.
 * - `usernames` (username → user_id) rows live on the shard of the username:
 *   a global index whose primary key makes a username unique across shards.
 *
 * Sign-up writes the users row first and the usernames row last. The
 * usernames row is the commit point, so every username always resolves to
 * a stored user: a lost race deletes its users row again, and a crash or an
 * ambiguous error in between leaves at worst a users row no username points
 * to — invisible, harmless, never a username blocked forever (the opposite
 * order could leave one). See README.md.
 */
import { fileURLToPath } from 'node:url';
import type { User } from '@parley/protocol';
import { ParleyError, type ShardedMysql } from '@parley/runtime';
import { byCodeUnits, publicUser, type UserRecord, type UserStore } from './user-store';

/** The folder of this service's `NNN_name.sql` migrations. */
export const USERS_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
}

interface UsernameRow {
  username: string;
  user_id: string;
}

const toRecord = (r: UserRow): UserRecord => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  passwordHash: r.password_hash,
});

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ER_DUP_ENTRY';
}

/** `LIKE` pattern matching strings that start with `prefix` taken literally (escape char `!`). */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[!%_]/g, '!$&')}%`;
}

export class MysqlUserStore implements UserStore {
  constructor(private readonly db: ShardedMysql) {}

  async create(user: UserRecord): Promise<User> {
    await this.db
      .poolFor(user.id)
      .query('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)', [
        user.id,
        user.username,
        user.displayName,
        user.passwordHash,
      ]);
    try {
      await this.db
        .poolFor(user.username)
        .query('INSERT INTO usernames (username, user_id) VALUES (?, ?)', [user.username, user.id]);
    } catch (err) {
      // Only a definite duplicate undoes the users row: after any other error the
      // usernames row may have committed, and then it must find its user.
      if (!isDuplicateKey(err)) throw err;
      await this.db
        .poolFor(user.id)
        .query('DELETE FROM users WHERE id = ?', [user.id])
        .catch(() => undefined); // a leftover row is unreachable: no username points to it
      throw new ParleyError('username_taken', `username ${user.username} is taken`);
    }
    return publicUser(user);
  }

  async byId(id: string): Promise<User | null> {
    const r = await this.recordById(id);
    return r ? publicUser(r) : null;
  }

  async byIds(ids: readonly string[]): Promise<User[]> {
    const unique = [...new Set(ids)];
    const byTarget = new Map<string, string[]>();
    for (const id of unique) {
      const target = this.db.map.targetFor(id);
      const group = byTarget.get(target);
      if (group) group.push(id);
      else byTarget.set(target, [id]);
    }
    const found = new Map<string, User>();
    await Promise.all(
      [...byTarget.values()].map(async (group) => {
        const [rows] = await this.db
          .poolFor(group[0] as string)
          .query('SELECT id, username, display_name FROM users WHERE id IN (?)', [group]);
        for (const r of rows as Omit<UserRow, 'password_hash'>[]) {
          found.set(r.id, { id: r.id, username: r.username, displayName: r.display_name });
        }
      }),
    );
    return unique.flatMap((id) => found.get(id) ?? []);
  }

  async byUsername(username: string): Promise<UserRecord | null> {
    const [rows] = await this.db
      .poolFor(username)
      .query('SELECT user_id FROM usernames WHERE username = ?', [username]);
    const userId = (rows as { user_id: string }[])[0]?.user_id;
    return userId === undefined ? null : this.recordById(userId);
  }

  async byUsernames(usernames: readonly string[]): Promise<User[]> {
    const unique = [...new Set(usernames)];
    // The username index lives on the shard of each username: one query per physical database.
    const byTarget = new Map<string, string[]>();
    for (const name of unique) {
      const target = this.db.map.targetFor(name);
      byTarget.set(target, [...(byTarget.get(target) ?? []), name]);
    }
    const idOf = new Map<string, string>();
    await Promise.all(
      [...byTarget.values()].map(async (group) => {
        const [rows] = await this.db
          .poolFor(group[0] as string)
          .query('SELECT username, user_id FROM usernames WHERE username IN (?)', [group]);
        for (const r of rows as UsernameRow[]) idOf.set(r.username, r.user_id);
      }),
    );
    return this.byIds(unique.flatMap((name) => idOf.get(name) ?? []));
  }

  async searchByPrefix(prefix: string, limit: number): Promise<User[]> {
    // Scatter-gather: each physical shard holds a slice of the username index.
    const perShard = await Promise.all(
      this.db.allPools().map(async (pool) => {
        const [rows] = await pool.query(
          "SELECT username, user_id FROM usernames WHERE username LIKE ? ESCAPE '!' ORDER BY username LIMIT ?",
          [prefixPattern(prefix), limit],
        );
        return rows as UsernameRow[];
      }),
    );
    const first = perShard
      .flat()
      .sort((a, b) => byCodeUnits(a.username, b.username))
      .slice(0, limit);
    return this.byIds(first.map((r) => r.user_id));
  }

  private async recordById(id: string): Promise<UserRecord | null> {
    const [rows] = await this.db
      .poolFor(id)
      .query('SELECT id, username, display_name, password_hash FROM users WHERE id = ?', [id]);
    const r = (rows as UserRow[])[0];
    return r ? toRecord(r) : null;
  }
}
