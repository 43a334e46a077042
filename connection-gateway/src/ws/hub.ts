/**
 * The gateway's local view: which sessions are connected, for which users
 * and rooms, and the fan-out subscriptions that follow from it. A gateway
 * subscribes to a room's channel only while one of its sessions is in that
 * room, and to a user's channel while that user has a session here.
 *
 * It also keeps what makes the live signals cheap (docs/notifications.md):
 * the read markers of the users connected here (an `unread` frame is then
 * `seq − marker`, computed in the loop that sends the `message` frames), the
 * member count of their rooms (read receipts and presence only in rooms up to
 * LIMITS.liveSignalsRoomMaxMembers), and presence changes gathered per room
 * for LIMITS.presenceFlushMs before they are sent as one frame.
 */
import {
  type Fanout,
  type FanoutListener,
  type FanoutPayload,
  roomChannel,
  userChannel,
} from '@parley/eventing';
import { LIMITS, type Message, type ServerFrame } from '@parley/protocol';
import type { Logger } from '@parley/runtime';
import { inSyncSpan, SpanKind, tracingOn } from '@parley/runtime/tracing';
import type { HubMetrics } from './metrics';
import { OutFrame } from './out-frame';
import type { Session } from './session';

/** The `ack` frame for a stored message, sent to the socket that is waiting for it. */
const ackOf = (m: Message): ServerFrame => ({
  type: 'ack',
  clientMsgId: m.clientMsgId,
  roomId: m.roomId,
  id: m.id,
  seq: m.seq,
  ts: m.ts,
});

/** In a room over LIMITS.liveSignalsRoomMaxMembers, unread frames are sent at most this often. */
export const UNREAD_COALESCE_MS = 1_000;

/**
 * Is a room small enough for read receipts, presence and typing? A size this gateway does not know
 * (yet) counts as large: a missed frame is the safe mistake, a 10,000-socket burst is not.
 */
export const isSmall = (size: number | undefined): boolean =>
  size !== undefined && size <= LIMITS.liveSignalsRoomMaxMembers;

export class Hub {
  private readonly byUser = new Map<string, Set<Session>>();
  private readonly byRoom = new Map<string, Set<Session>>();
  /**
   * Read markers (room → seq) of the users with a session here: what is known, from their first
   * session on (read-marker fan-outs, their own messages), merged with the stored ones once loaded.
   */
  private readonly markers = new Map<string, Map<string, number>>();
  /** Users whose stored markers are loaded: only they get `unread` frames computed here. */
  private readonly markersLoaded = new Set<string>();
  /** Member counts of the rooms followed here (session set-up, room events). */
  private readonly roomSizes = new Map<string, number>();
  /** Presence changes per room, waiting for the next flush (last one per user wins). */
  private readonly presence = new Map<string, Map<string, boolean>>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** Per room: the last seq seen here, when its unread frames were last sent, a pending send. */
  private readonly unread = new Map<
    string,
    { lastSeq: number; lastPass: number; timer?: NodeJS.Timeout }
  >();
  private readonly unreadCoalesceMs: number;

  constructor(
    private readonly fanout: Fanout,
    private readonly log: Logger,
    private readonly opts: {
      presenceFlushMs?: number;
      unreadCoalesceMs?: number;
      /** A user's rooms here changed (a join or leave): presence tells the new set. */
      onRoomsChanged?: (userId: string) => void;
      /**
       * Frames out, fan-out deliveries, send → deliver (ws/metrics.ts). The sockets a payload
       * reached are counted in the loop that writes them and recorded once per payload.
       */
      metrics?: HubMetrics;
    } = {},
  ) {
    this.unreadCoalesceMs = opts.unreadCoalesceMs ?? UNREAD_COALESCE_MS;
  }

  /** Starts the presence flush. */
  start(): void {
    this.flushTimer = setInterval(
      () => this.flushPresence(),
      this.opts.presenceFlushMs ?? LIMITS.presenceFlushMs,
    );
    this.flushTimer.unref();
  }

  stop(): void {
    clearInterval(this.flushTimer);
    for (const due of this.unread.values()) clearTimeout(due.timer);
  }

  /**
   * Merges a user's stored read markers (loaded at their first socket here) with what is known
   * already: markers only grow, so the larger wins (a `read-marker` fan-out may have overtaken the load).
   */
  mergeMarkers(userId: string, loaded: Record<string, number>): void {
    const mine = this.markers.get(userId);
    if (!mine) return; // the user left meanwhile
    for (const [roomId, seq] of Object.entries(loaded))
      if (seq > (mine.get(roomId) ?? -1)) mine.set(roomId, seq);
    this.markersLoaded.add(userId);
  }

  /** Whether the user's markers are loaded here (else no `unread` frames are computed for them). */
  hasMarkers(userId: string): boolean {
    return this.markersLoaded.has(userId);
  }

  /** The read marker of a user in a room as known here, once their markers are loaded. */
  markerOf(userId: string, roomId: string): number | undefined {
    if (!this.markersLoaded.has(userId)) return undefined;
    return this.markers.get(userId)?.get(roomId) ?? 0;
  }

  /** Raises a marker known here (never lowers it). */
  private raiseMarker(userId: string, roomId: string, seq: number): void {
    const mine = this.markers.get(userId);
    if (mine && seq > (mine.get(roomId) ?? -1)) mine.set(roomId, seq);
  }

  /** Records member counts of rooms (session set-up, room events). */
  setRoomSizes(sizes: Record<string, number>): void {
    for (const [roomId, n] of Object.entries(sizes)) this.roomSizes.set(roomId, n);
  }

  /** The rooms a user's sessions here follow, with their member counts as known here. */
  roomsOfUser(userId: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.byUser.get(userId) ?? [])
      for (const r of s.rooms) out.set(r, this.roomSizes.get(r) ?? Number.POSITIVE_INFINITY);
    return out;
  }

  get sessionCount(): number {
    let n = 0;
    for (const s of this.byUser.values()) n += s.size;
    return n;
  }

  allSessions(): Session[] {
    return [...this.byUser.values()].flatMap((s) => [...s]);
  }

  sessionsOf(userId: string): Session[] {
    return [...(this.byUser.get(userId) ?? [])];
  }

  /** Registers a session and subscribes to what it needs; resolves when the subscriptions are active. */
  async add(session: Session, roomIds: string[]): Promise<void> {
    if (!this.markers.has(session.userId)) this.markers.set(session.userId, new Map());
    await this.addTo(this.byUser, session.userId, session, userChannel(session.userId));
    await Promise.all(roomIds.map((r) => this.joinSession(session, r)));
  }

  async remove(session: Session): Promise<void> {
    await Promise.all([...session.rooms].map((r) => this.leaveSession(session, r)));
    await this.removeFrom(this.byUser, session.userId, session, userChannel(session.userId));
    if (!this.byUser.has(session.userId)) {
      this.markers.delete(session.userId);
      this.markersLoaded.delete(session.userId);
    }
  }

  /** `session` follows these rooms from now on. */
  async joinRooms(session: Session, roomIds: string[]): Promise<void> {
    await Promise.all(roomIds.map((r) => this.joinSession(session, r)));
  }

  /** Every session of `userId` follows `roomId` from now on. */
  async joinRoom(userId: string, roomId: string): Promise<void> {
    await Promise.all(this.sessionsOf(userId).map((s) => this.joinSession(s, roomId)));
  }

  async leaveRoom(userId: string, roomId: string): Promise<void> {
    await Promise.all(this.sessionsOf(userId).map((s) => this.leaveSession(s, roomId)));
  }

  private async joinSession(session: Session, roomId: string): Promise<void> {
    // A closing session must not be re-added by a room event that races its removal.
    if (session.closed || session.rooms.has(roomId)) return;
    session.rooms.add(roomId);
    await this.addTo(this.byRoom, roomId, session, roomChannel(roomId));
  }

  private async leaveSession(session: Session, roomId: string): Promise<void> {
    if (!session.rooms.delete(roomId)) return;
    await this.removeFrom(this.byRoom, roomId, session, roomChannel(roomId));
  }

  private async addTo(index: Map<string, Set<Session>>, key: string, s: Session, channel: string) {
    let set = index.get(key);
    if (!set) {
      set = new Set();
      index.set(key, set);
    }
    set.add(s);
    // Subscribe on the first local interest; `subscribe` is idempotent per listener.
    if (set.size === 1) await this.fanout.subscribe(channel, this.onPayload);
  }

  private async removeFrom(
    index: Map<string, Set<Session>>,
    key: string,
    s: Session,
    channel: string,
  ) {
    const set = index.get(key);
    if (!set?.delete(s)) return;
    if (set.size === 0) {
      index.delete(key);
      if (index === this.byRoom) {
        this.roomSizes.delete(key);
        this.presence.delete(key);
        clearTimeout(this.unread.get(key)?.timer);
        this.unread.delete(key);
      }
      await this.fanout.unsubscribe(channel, this.onPayload);
    }
  }

  /** Sends each room's gathered presence changes as one frame (≤ presenceFrameMaxUsers users), serialized once. */
  flushPresence(): void {
    if (this.presence.size === 0) return;
    const pending = [...this.presence];
    this.presence.clear();
    let sent = 0;
    for (const [roomId, changes] of pending) {
      const sessions = this.byRoom.get(roomId);
      if (!sessions || sessions.size === 0) continue;
      const users = [...changes].map(([userId, online]) => ({ userId, online }));
      for (let i = 0; i < users.length; i += LIMITS.presenceFrameMaxUsers) {
        const out = new OutFrame(
          JSON.stringify({
            type: 'presence',
            users: users.slice(i, i + LIMITS.presenceFrameMaxUsers),
          } satisfies ServerFrame),
        );
        for (const s of sessions) if (s.sendOut(out)) sent++;
      }
    }
    this.opts.metrics?.framesOut('presence', sent);
    this.opts.metrics?.delivered('presence', sent);
  }

  private readonly onPayload: FanoutListener = (channel, payload) => {
    try {
      this.dispatch(channel, payload);
    } catch (err) {
      this.log.error({ err, channel }, 'fan-out dispatch failed');
    }
  };

  /**
   * A new message to the room's sessions here: its `ack` to the socket that sent it and the
   * `message` frame (serialized and framed once: OutFrame) to the others, all of them first; then
   * the `unread` frames.
   * In a small room those follow at once; in a larger one (over LIMITS.liveSignalsRoomMaxMembers)
   * at most once per UNREAD_COALESCE_MS per room, each carrying the count at that moment: a
   * 10,000-member room chatting at 10 msg/s costs one unread frame per member per second, not ten
   * (perf/results/2026-11-29-large-room.md measured the frame as much as the message itself).
   */
  private dispatchMessage(m: Message, sessions: Iterable<Session>, sentAt?: string): void {
    let out: OutFrame | undefined;
    let acks = 0;
    let messages = 0;
    for (const s of sessions) {
      if (s.userId === m.senderId) {
        // The sender has read what they wrote.
        this.raiseMarker(s.userId, m.roomId, m.seq);
        if (s.takePending(m.clientMsgId, m.roomId)) {
          if (s.send(ackOf(m))) acks++;
          continue;
        }
      }
      out ??= new OutFrame(JSON.stringify({ type: 'message', message: m } satisfies ServerFrame));
      if (s.sendOut(out)) messages++;
    }
    const metrics = this.opts.metrics;
    if (metrics) {
      metrics.framesOut('message', messages);
      metrics.delivered('message', acks + messages);
      // Once per message here, when it reached a receiver (not only its sender's ack).
      if (messages > 0) metrics.sendDelivered(sentAt);
    }
    this.unreadDue(m.roomId, m.seq);
  }

  /** Schedules the room's unread frames for its last seq (now in a small room, else throttled). */
  private unreadDue(roomId: string, seq: number): void {
    if (!this.byRoom.has(roomId)) return; // nobody here follows it (any more)
    const due = this.unread.get(roomId) ?? { lastSeq: 0, lastPass: Number.NEGATIVE_INFINITY };
    due.lastSeq = Math.max(due.lastSeq, seq);
    this.unread.set(roomId, due);
    if (isSmall(this.roomSizes.get(roomId))) {
      this.unreadPass(roomId);
      return;
    }
    if (due.timer) return;
    const wait = Math.max(0, due.lastPass + this.unreadCoalesceMs - Date.now());
    // After a quiet interval, at once (right after the message pass); else one pass when it is due.
    if (wait === 0) {
      this.unreadPass(roomId);
      return;
    }
    due.timer = setTimeout(() => {
      due.timer = undefined;
      this.unreadPass(roomId);
    }, wait);
    due.timer.unref?.();
  }

  /** Sends every session of the room whose user's markers are known: lastSeq − marker (≥ 0). */
  private unreadPass(roomId: string): void {
    const due = this.unread.get(roomId);
    const sessions = this.byRoom.get(roomId);
    if (!due || !sessions) return;
    due.lastPass = Date.now();
    const frames = new Map<number, OutFrame>();
    let sent = 0;
    for (const s of sessions) {
      const marker = this.markerOf(s.userId, roomId);
      if (marker === undefined) continue;
      const count = Math.max(0, due.lastSeq - marker);
      let out = frames.get(count);
      if (out === undefined) {
        out = new OutFrame(JSON.stringify({ type: 'unread', roomId, count } satisfies ServerFrame));
        frames.set(count, out);
      }
      if (s.sendOut(out)) sent++;
    }
    this.opts.metrics?.framesOut('unread', sent);
  }

  private dispatch(channel: string, p: FanoutPayload): void {
    if (channel.startsWith('room:')) {
      const roomId = channel.slice(5);
      const sessions = [...(this.byRoom.get(roomId) ?? [])];
      if (p.kind === 'message') {
        // The last hop of the message's trace: message-write's span, carried on the payload.
        if (!tracingOn() || !p.traceparent) this.dispatchMessage(p.message, sessions, p.sentAt);
        else
          inSyncSpan(
            'fan-out message',
            {
              kind: SpanKind.CONSUMER,
              parent: p.traceparent,
              attributes: { 'parley.room_id': roomId, 'parley.sockets': sessions.length },
            },
            () => this.dispatchMessage(p.message, sessions, p.sentAt),
          );
      } else if (p.kind === 'typing') {
        // Throttled per user and room at the sender's gateway; relayed in small rooms only.
        if (!isSmall(this.roomSizes.get(roomId))) return;
        let sent = 0;
        for (const s of sessions)
          if (s.userId !== p.userId && s.send({ type: 'typing', roomId, userId: p.userId })) sent++;
        this.opts.metrics?.delivered('typing', sent);
      } else if (p.kind === 'read') {
        // Read receipts only in small rooms: in a room of 10,000, every read would be 10,000 frames.
        if (!isSmall(this.roomSizes.get(roomId))) return;
        const out = new OutFrame(
          JSON.stringify({
            type: 'read',
            roomId,
            userId: p.userId,
            seq: p.seq,
          } satisfies ServerFrame),
        );
        let sent = 0;
        for (const s of sessions) if (s.userId !== p.userId && s.sendOut(out)) sent++;
        this.opts.metrics?.framesOut('read', sent);
        this.opts.metrics?.delivered('read', sent);
      } else if (p.kind === 'presence') {
        if (!isSmall(this.roomSizes.get(roomId))) return;
        let changes = this.presence.get(roomId);
        if (!changes) {
          changes = new Map();
          this.presence.set(roomId, changes);
        }
        changes.set(p.userId, p.online);
      }
      return;
    }
    if (!channel.startsWith('user:')) return;
    const userId = channel.slice(5);
    const sessions = this.sessionsOf(userId);
    switch (p.kind) {
      case 'ack': {
        const m = p.message;
        let sent = 0;
        for (const s of sessions) {
          if (s.takePending(m.clientMsgId, m.roomId) && s.send(ackOf(m))) sent++;
        }
        this.opts.metrics?.delivered('ack', sent);
        return;
      }
      case 'read-marker': {
        this.raiseMarker(userId, p.roomId, p.seq);
        // notify counted from the last seq the read was checked against; a message may have
        // arrived here since: count from the later of the two.
        const lastSeq = Math.max(p.seq + p.unread, this.unread.get(p.roomId)?.lastSeq ?? 0);
        const marker = Math.max(p.seq, this.markers.get(userId)?.get(p.roomId) ?? 0);
        const text = JSON.stringify({
          type: 'unread',
          roomId: p.roomId,
          count: Math.max(0, lastSeq - marker),
        } satisfies ServerFrame);
        let sent = 0;
        for (const s of sessions) if (s.sendText(text, 'unread')) sent++;
        this.opts.metrics?.delivered('read-marker', sent);
        return;
      }
      case 'notification': {
        const frame: ServerFrame = p.notification
          ? { type: 'notification', unreadTotal: p.unreadTotal, notification: p.notification }
          : { type: 'notification', unreadTotal: p.unreadTotal };
        let sent = 0;
        for (const s of sessions) if (s.send(frame)) sent++;
        this.opts.metrics?.delivered('notification', sent);
        return;
      }
      case 'send-rejected': {
        let sent = 0;
        for (const s of sessions) {
          if (
            s.takePending(p.clientMsgId, p.roomId) &&
            s.send({ type: 'error', code: p.code, message: p.message, ref: p.clientMsgId })
          )
            sent++;
        }
        this.opts.metrics?.delivered('send-rejected', sent);
        return;
      }
      case 'room': {
        if (p.event !== 'left') this.roomSizes.set(p.room.id, p.room.memberCount);
        for (const s of sessions) {
          if (!s.ready)
            s.roomEventsDuringSetup.set(p.room.id, p.event === 'left' ? 'left' : 'joined');
        }
        const follow =
          p.event === 'left' ? this.leaveRoom(userId, p.room.id) : this.joinRoom(userId, p.room.id);
        // Subscribe before telling the client, so nothing sent to the room after this frame is missed.
        void follow.then(
          () => {
            let sent = 0;
            for (const s of this.sessionsOf(userId)) {
              if (s.ready && s.send({ type: 'room', event: p.event, room: p.room })) sent++;
            }
            this.opts.metrics?.delivered('room', sent);
            this.opts.onRoomsChanged?.(userId);
          },
          (err) => this.log.error({ err, roomId: p.room.id }, 'room subscription change failed'),
        );
        return;
      }
      default:
        return; // command-result: answered by the CommandWaiter
    }
  }
}
