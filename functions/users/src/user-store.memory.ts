/**
 * The user store of the embedded mode: two maps, neither durable nor shared
 * between processes. `create` checks and claims the username in one
 * synchronous step, so concurrent sign-ups behave as on MySQL.
 */
import type { User } from '@parley/protocol';
import { ParleyError } from '@parley/runtime';
import { byCodeUnits, publicUser, type UserRecord, type UserStore } from './user-store';

export class MemoryUserStore implements UserStore {
  private readonly byIdMap = new Map<string, UserRecord>();
  private readonly idByUsername = new Map<string, string>();

  async create(user: UserRecord): Promise<User> {
    if (this.idByUsername.has(user.username)) {
      throw new ParleyError('username_taken', `username ${user.username} is taken`);
    }
    this.idByUsername.set(user.username, user.id);
    this.byIdMap.set(user.id, { ...user });
    return publicUser(user);
  }

  async byId(id: string): Promise<User | null> {
    const r = this.byIdMap.get(id);
    return r ? publicUser(r) : null;
  }

  async byIds(ids: readonly string[]): Promise<User[]> {
    const out: User[] = [];
    for (const id of new Set(ids)) {
      const r = this.byIdMap.get(id);
      if (r) out.push(publicUser(r));
    }
    return out;
  }

  async byUsername(username: string): Promise<UserRecord | null> {
    const id = this.idByUsername.get(username);
    const r = id === undefined ? undefined : this.byIdMap.get(id);
    return r ? { ...r } : null;
  }

  async byUsernames(usernames: readonly string[]): Promise<User[]> {
    return this.byIds([...new Set(usernames)].flatMap((u) => this.idByUsername.get(u) ?? []));
  }

  async searchByPrefix(prefix: string, limit: number): Promise<User[]> {
    const names = [...this.idByUsername.keys()]
      .filter((u) => u.startsWith(prefix))
      .sort(byCodeUnits);
    return this.byIds(names.slice(0, limit).map((u) => this.idByUsername.get(u) as string));
  }
}
