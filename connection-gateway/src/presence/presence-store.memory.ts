/**
 * Presence in one process (the embedded mode): the same rules as Redis, over a state several
 * "gateways" can share (the contract test runs two on one state).
 */
import type { PresenceStore } from './presence-store';

export class MemoryPresenceState {
  /** Gateway id → its last beat. */
  readonly beats = new Map<string, number>();
  /** Gateway id → users with a socket there. */
  readonly usersOf = new Map<string, Set<string>>();
  /** User id → gateways where they have a socket. */
  readonly gatewaysOf = new Map<string, Set<string>>();
}

export class MemoryPresenceStore implements PresenceStore {
  constructor(
    private readonly gatewayId: string,
    private readonly ttlMs: number,
    private readonly state = new MemoryPresenceState(),
    private readonly now: () => number = Date.now,
  ) {}

  private live(gatewayId: string): boolean {
    const beat = this.state.beats.get(gatewayId);
    return beat !== undefined && beat > this.now() - this.ttlMs;
  }

  private onlineElsewhere(userId: string, except: string): boolean {
    for (const g of this.state.gatewaysOf.get(userId) ?? [])
      if (g !== except && this.live(g)) return true;
    return false;
  }

  async connect(userId: string): Promise<boolean> {
    const before = this.onlineElsewhere(userId, this.gatewayId);
    add(this.state.gatewaysOf, userId, this.gatewayId);
    add(this.state.usersOf, this.gatewayId, userId);
    return !before;
  }

  async disconnect(userId: string): Promise<boolean> {
    remove(this.state.gatewaysOf, userId, this.gatewayId);
    remove(this.state.usersOf, this.gatewayId, userId);
    return !this.onlineElsewhere(userId, this.gatewayId);
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((u) => this.onlineElsewhere(u, '')));
  }

  async beat(): Promise<boolean> {
    const swept = !this.state.beats.has(this.gatewayId);
    this.state.beats.set(this.gatewayId, this.now());
    return swept;
  }

  async sweep(): Promise<string[]> {
    const offline: string[] = [];
    for (const g of [...this.state.beats.keys()]) {
      if (this.live(g)) continue;
      this.state.beats.delete(g);
      for (const u of this.state.usersOf.get(g) ?? []) {
        remove(this.state.gatewaysOf, u, g);
        if (!this.onlineElsewhere(u, g)) offline.push(u);
      }
      this.state.usersOf.delete(g);
    }
    return offline;
  }
}

function add(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) {
    set = new Set();
    index.set(key, set);
  }
  set.add(value);
}

function remove(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}
