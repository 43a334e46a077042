/**
 * The gateway's local view: which sessions are connected, for which users
 * and rooms, and the fan-out subscriptions that follow from it. A gateway
 * subscribes to a room's channel only while one of its sessions is in that
 * room, and to a user's channel while that user has a session here.
 */
import {
  type Fanout,
  type FanoutListener,
  type FanoutPayload,
  roomChannel,
  userChannel,
} from '@parley/eventing';
import type { Message, ServerFrame } from '@parley/protocol';
import type { Logger } from '@parley/runtime';
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

export class Hub {
  private readonly byUser = new Map<string, Set<Session>>();
  private readonly byRoom = new Map<string, Set<Session>>();

  constructor(
    private readonly fanout: Fanout,
    private readonly log: Logger,
  ) {}

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
    await this.addTo(this.byUser, session.userId, session, userChannel(session.userId));
    await Promise.all(roomIds.map((r) => this.joinSession(session, r)));
  }

  async remove(session: Session): Promise<void> {
    await Promise.all([...session.rooms].map((r) => this.leaveSession(session, r)));
    await this.removeFrom(this.byUser, session.userId, session, userChannel(session.userId));
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
      await this.fanout.unsubscribe(channel, this.onPayload);
    }
  }

  private readonly onPayload: FanoutListener = (channel, payload) => {
    try {
      this.dispatch(channel, payload);
    } catch (err) {
      this.log.error({ err, channel }, 'fan-out dispatch failed');
    }
  };

  private dispatch(channel: string, p: FanoutPayload): void {
    if (channel.startsWith('room:')) {
      const roomId = channel.slice(5);
      const sessions = [...(this.byRoom.get(roomId) ?? [])];
      if (p.kind === 'message') {
        const m = p.message;
        for (const s of sessions) {
          if (s.userId === m.senderId && s.takePending(m.clientMsgId, m.roomId)) {
            s.send(ackOf(m));
          } else {
            s.send({ type: 'message', message: m });
          }
        }
      } else if (p.kind === 'typing') {
        for (const s of sessions)
          if (s.userId !== p.userId) s.send({ type: 'typing', roomId, userId: p.userId });
      } else if (p.kind === 'read') {
        for (const s of sessions) s.send({ type: 'read', roomId, userId: p.userId, seq: p.seq });
      }
      return;
    }
    if (!channel.startsWith('user:')) return;
    const userId = channel.slice(5);
    const sessions = this.sessionsOf(userId);
    switch (p.kind) {
      case 'ack': {
        const m = p.message;
        for (const s of sessions) {
          if (s.takePending(m.clientMsgId, m.roomId)) {
            s.send(ackOf(m));
          }
        }
        return;
      }
      case 'send-rejected':
        for (const s of sessions) {
          if (s.takePending(p.clientMsgId, p.roomId)) {
            s.send({ type: 'error', code: p.code, message: p.message, ref: p.clientMsgId });
          }
        }
        return;
      case 'room': {
        for (const s of sessions) {
          if (!s.ready)
            s.roomEventsDuringSetup.set(p.room.id, p.event === 'left' ? 'left' : 'joined');
        }
        const follow =
          p.event === 'left' ? this.leaveRoom(userId, p.room.id) : this.joinRoom(userId, p.room.id);
        // Subscribe before telling the client, so nothing sent to the room after this frame is missed.
        void follow.then(
          () => {
            for (const s of this.sessionsOf(userId)) {
              if (s.ready) s.send({ type: 'room', event: p.event, room: p.room });
            }
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
