/**
 * The gateway's side of presence: counts each user's sockets here, registers the user with the
 * PresenceStore on their first and unregisters on their last, beats and sweeps, and tells the
 * members of the user's small rooms when the user comes online or goes offline (one fan-out per
 * room of up to LIMITS.liveSignalsRoomMaxMembers members; receiving gateways coalesce them, see
 * ws/hub.ts). Changes of one user are applied one at a time, in order, so a quick reconnect
 * cannot reorder a disconnect after the connect that followed it.
 */
import { type Fanout, roomChannel } from '@parley/eventing';
import type { Logger } from '@parley/runtime';
import { isSmall } from '../ws/hub';
import { type PresenceStore, presenceTimings } from './presence-store';

/** Users of a dead gateway whose rooms are looked up at once, when the sweep tells them offline. */
const SWEEP_CONCURRENCY = 16;

/** A user's rooms and their member counts, as far as this gateway knows them. */
export type RoomSizes = ReadonlyMap<string, number>;

export interface PresenceTrackerDeps {
  store: PresenceStore;
  fanout: Fanout;
  log: Logger;
  /** The rooms of a user this gateway holds no socket of (a dead gateway's users, at the sweep). */
  roomsOf: (userId: string) => Promise<RoomSizes>;
  ttlMs: number;
  /** Called with each change this gateway publishes (metrics). */
  onChange?: (online: boolean) => void;
}

export class PresenceTracker {
  private readonly sockets = new Map<string, number>();
  private readonly registered = new Set<string>();
  /** The last known rooms of each user with a socket here: where their change is told. */
  private readonly rooms = new Map<string, RoomSizes>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Users whose last change failed (Redis away): applied again at each beat until it works. */
  private readonly retry = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private draining = false;
  /** False until the first beat: a beat that finds no entry of this gateway then is only its first. */
  private beaten = false;

  constructor(private readonly deps: PresenceTrackerDeps) {}

  /** Starts beating and sweeping; resolves after the first beat. */
  async start(): Promise<void> {
    const { beatMs, sweepMs } = presenceTimings(this.deps.ttlMs);
    const beat = setInterval(() => void this.beat(), beatMs);
    const sweep = setInterval(() => void this.sweep(), sweepMs);
    beat.unref();
    sweep.unref();
    this.timers = [beat, sweep];
    await this.beat();
  }

  /**
   * Stops beating (a drain). The users stay registered, and the sockets the drain closes do not
   * take them offline: those who reconnect to another gateway within the TTL never flicker
   * offline; the others go offline at the sweep after the TTL (docs/notifications.md).
   */
  stop(): void {
    this.draining = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** The user's rooms changed (a join or a leave reached this gateway): where their next change is told. */
  roomsChanged(userId: string, rooms: RoomSizes): void {
    if (this.sockets.has(userId)) this.rooms.set(userId, rooms);
  }

  /** A socket of `userId` is set up here, following `rooms`. */
  opened(userId: string, rooms: RoomSizes): void {
    this.sockets.set(userId, (this.sockets.get(userId) ?? 0) + 1);
    this.rooms.set(userId, rooms);
    this.sync(userId);
  }

  /** A socket of `userId` closed (only for sockets that were `opened`). */
  closed(userId: string): void {
    const n = (this.sockets.get(userId) ?? 0) - 1;
    if (n > 0) this.sockets.set(userId, n);
    else this.sockets.delete(userId);
    this.sync(userId);
  }

  /** Resolves when every change asked so far is applied (tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private sync(userId: string): void {
    const prev = this.chains.get(userId) ?? Promise.resolve();
    const next = prev
      .then(() => this.apply(userId))
      .catch((err) => this.deps.log.warn({ err, userId }, 'presence change failed'))
      .finally(() => {
        if (this.chains.get(userId) === next) this.chains.delete(userId);
      });
    this.chains.set(userId, next);
  }

  private async apply(userId: string): Promise<void> {
    if (this.draining) return;
    const wanted = this.sockets.has(userId);
    try {
      if (wanted && !this.registered.has(userId)) {
        const cameOnline = await this.deps.store.connect(userId);
        this.registered.add(userId);
        this.retry.delete(userId);
        if (cameOnline) await this.publish(userId, true);
      } else if (!wanted && this.registered.has(userId)) {
        const rooms = this.rooms.get(userId);
        const wentOffline = await this.deps.store.disconnect(userId);
        this.registered.delete(userId);
        this.retry.delete(userId);
        if (!this.sockets.has(userId)) this.rooms.delete(userId);
        if (wentOffline) await this.publish(userId, false, rooms);
      }
    } catch (err) {
      // The store did not take the change: try again at the next beat, so a Redis blip cannot
      // leave a connected user offline, or a gone one online, for good.
      this.retry.add(userId);
      throw err;
    }
  }

  private async publish(userId: string, online: boolean, known?: RoomSizes): Promise<void> {
    const rooms = known ?? this.rooms.get(userId) ?? (await this.deps.roomsOf(userId));
    this.deps.onChange?.(online);
    const small = [...rooms].filter(([, n]) => isSmall(n));
    await Promise.all(
      small.map(([roomId]) =>
        this.deps.fanout.publish(roomChannel(roomId), { kind: 'presence', userId, online }),
      ),
    );
  }

  private async beat(): Promise<void> {
    try {
      const swept = await this.deps.store.beat();
      const first = !this.beaten;
      this.beaten = true;
      if (swept && !first) {
        // Swept while alive (a stall past the TTL): register everyone here again.
        this.deps.log.warn(
          'presence: this gateway was taken for dead; registering its users again',
        );
        const users = [...this.registered];
        this.registered.clear();
        for (const u of users) this.sync(u);
      }
      for (const u of this.retry) this.sync(u);
    } catch (err) {
      this.deps.log.warn({ err }, 'presence beat failed');
    }
  }

  private async sweep(): Promise<void> {
    try {
      const offline = await this.deps.store.sweep();
      if (offline.length)
        this.deps.log.info({ users: offline.length }, 'presence: swept a dead gateway');
      // A user who has a socket here is online after all (they reconnected here).
      const told = offline.filter((u) => !this.sockets.has(u));
      // Their rooms come from the rooms function, SWEEP_CONCURRENCY users at a time.
      for (let i = 0; i < told.length; i += SWEEP_CONCURRENCY)
        await Promise.all(
          told
            .slice(i, i + SWEEP_CONCURRENCY)
            .map((u) =>
              this.publish(u, false).catch((err) =>
                this.deps.log.warn({ err, userId: u }, 'presence: offline not told'),
              ),
            ),
        );
    } catch (err) {
      this.deps.log.warn({ err }, 'presence sweep failed');
    }
  }
}
