/**
 * notify: the write side of the Notification service (docs/notifications.md).
 * It keeps each user's read markers and their mention inbox, and tells the
 * user's sockets (through the fan-out) when either changes:
 *
 * - `parley.message.created`: the sender has read what they wrote (their
 *   marker moves to the message's seq, nothing published); each `@username`
 *   of a member other than the sender gets one inbox entry and a
 *   `notification` on their channel. Nothing is written per room member.
 * - `parley.message.edited`: names the edit added get their entry (one per
 *   user and message, so nobody is notified twice).
 * - `parley.room.member.joined`: the joiner's marker moves to the room's last
 *   seq, so they start at 0 unread instead of the room's whole history.
 * - `parley.notify.read`: the marker moves (never down), the room's mentions up
 *   to it are read; `read-marker` to the user's sockets, `read` to the room,
 *   and always a `command-result` for the request waiting on it.
 * - `parley.notify.inbox.read`: entries marked read; always a `command-result`.
 * - `parley.message.deleted`, `parley.room.created`, `parley.room.member.left`:
 *   nothing to do (they are on notify's topics, so they are accepted).
 *
 * Redelivery is safe: markers only grow and report whether this call moved
 * them, inbox entries are one per (user, message), and what is published
 * follows from what this call changed — a replay changes nothing and publishes
 * nothing but the command-result its requester may still be waiting for. The
 * price: a publish lost to a failure after its write is not repeated (the
 * fan-out is best effort; the inbox and the markers hold the truth, read on
 * the next connect). A transient failure (DB, Redis, the users or messages
 * function) throws a retriable error: 503, the event is redelivered.
 */
import {
  type CloudEventFunction,
  type EventType,
  type Fanout,
  type FanoutPayload,
  type ParleyEvent,
  roomChannel,
  userChannel,
} from '@parley/eventing';
import { excerptOf, type NotificationStore } from '@parley/notification-store';
import type { Message } from '@parley/protocol';
import { type Logger, ParleyError } from '@parley/runtime';
import { mentionedUsernames } from './mentions';
import type { NotifyMetrics } from './metrics';
import type { LastSeqOf } from './room-seqs';
import type { UserLookup } from './user-lookup';

export interface NotifyDeps {
  store: NotificationStore;
  /** Membership with fallback to the room service: `membershipWithFallback(cache, loader)`. */
  isMember: (roomId: string, userId: string) => Promise<boolean>;
  fanout: Fanout;
  /** Resolves `@username`s (the users function). */
  users: UserLookup;
  /** A room's last seq (the messages function). */
  lastSeqOf: LastSeqOf;
  log: Logger;
  metrics?: NotifyMetrics;
}

/** Every type of notify's trigger topics (message events, room events, notify commands). */
export const NOTIFY_ACCEPTS = [
  'parley.message.created',
  'parley.message.edited',
  'parley.message.deleted',
  'parley.room.created',
  'parley.room.member.joined',
  'parley.room.member.left',
  'parley.notify.read',
  'parley.notify.inbox.read',
] as const satisfies readonly EventType[];

/** @example registerFunction('notify', cloudEventApp(createNotify(deps), { log, registry })) */
export function createNotify(deps: NotifyDeps): CloudEventFunction {
  const { store, fanout, users, metrics } = deps;

  const tell = (userId: string, payload: FanoutPayload) =>
    fanout.publish(userChannel(userId), payload);

  const markerMoved = (moved: boolean, cause: 'message' | 'join' | 'read') => {
    if (moved) metrics?.markersMoved.inc({ cause });
  };

  /** Inbox entries for the members a body names (sender excluded); one per user and message. */
  async function mentions(message: Message, log: Logger): Promise<void> {
    const names = mentionedUsernames(message.body);
    if (names.length === 0) return;
    const asked = new Set(names);
    const named = (await users.byUsernames(names)).filter(
      (u) => asked.has(u.username) && u.id !== message.senderId,
    );
    const members = (
      await Promise.all(
        named.map(async (u) => ((await deps.isMember(message.roomId, u.id)) ? [u.id] : [])),
      )
    ).flat();
    const entry = {
      messageId: message.id,
      roomId: message.roomId,
      seq: message.seq,
      senderId: message.senderId,
      excerpt: excerptOf(message.body),
      ts: message.ts,
    };
    let created = 0;
    await Promise.all(
      members.map(async (userId) => {
        const notification = await store.addMention(userId, entry);
        if (!notification) return; // a redelivery: stored and told before
        created++;
        metrics?.mentionsCreated.inc();
        await tell(userId, {
          kind: 'notification',
          unreadTotal: await store.unreadTotal(userId),
          notification,
        });
      }),
    );
    log.info(
      { messageId: message.id, named: names.length, members: members.length, created },
      'mentions handled',
    );
  }

  async function messageCreated(event: ParleyEvent<'parley.message.created'>, log: Logger) {
    const { message } = event.data;
    const { moved } = await store.advanceMarker(message.senderId, message.roomId, message.seq);
    markerMoved(moved, 'message');
    await mentions(message, log);
  }

  async function memberJoined(event: ParleyEvent<'parley.room.member.joined'>) {
    const { room, userId } = event.data;
    const lastSeq = await deps.lastSeqOf(room.id);
    const { seq, moved } = await store.advanceMarker(userId, room.id, lastSeq);
    markerMoved(moved, 'join');
    if (moved)
      await tell(userId, {
        kind: 'read-marker',
        roomId: room.id,
        seq,
        unread: Math.max(0, lastSeq - seq),
      });
  }

  async function read(event: ParleyEvent<'parley.notify.read'>) {
    const { actorId, roomId, lastSeq } = event.data;
    const { seq, moved } = await store.advanceMarker(actorId, roomId, event.data.seq);
    markerMoved(moved, 'read');
    // Also after a replay whose first attempt failed between the two writes.
    if ((await store.markRoomReadUpTo(actorId, roomId, seq)) > 0)
      await tell(actorId, { kind: 'notification', unreadTotal: await store.unreadTotal(actorId) });
    const unread = Math.max(0, lastSeq - seq);
    if (moved) {
      await tell(actorId, { kind: 'read-marker', roomId, seq, unread });
      await fanout.publish(roomChannel(roomId), { kind: 'read', roomId, userId: actorId, seq });
    }
    await tell(actorId, {
      kind: 'command-result',
      causationId: event.id,
      read: { roomId, seq, unread },
    });
  }

  async function inboxRead(event: ParleyEvent<'parley.notify.inbox.read'>) {
    const { data } = event;
    const changed = await store.markRead(data.actorId, 'all' in data ? 'all' : data.messageIds);
    const unreadTotal = await store.unreadTotal(data.actorId);
    if (changed > 0) await tell(data.actorId, { kind: 'notification', unreadTotal });
    await tell(data.actorId, {
      kind: 'command-result',
      causationId: event.id,
      inbox: { unreadTotal },
    });
  }

  return {
    name: 'notify',
    accepts: NOTIFY_ACCEPTS,
    async handle(event, { log }) {
      switch (event.type) {
        case 'parley.message.created':
          return messageCreated(event, log);
        case 'parley.message.edited':
          return mentions(event.data.message, log);
        case 'parley.room.member.joined':
          return memberJoined(event);
        case 'parley.notify.read':
          return read(event);
        case 'parley.notify.inbox.read':
          return inboxRead(event);
        case 'parley.message.deleted':
        case 'parley.room.created':
        case 'parley.room.member.left':
          return;
        default:
          throw new ParleyError('bad_request', `notify does not handle ${event.type}`);
      }
    },
  };
}
