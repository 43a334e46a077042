/**
 * The notification store: each user's read markers (one per room they have
 * read) and their mention inbox. Every row lives on the shard of its user id,
 * so every call but `markersOfRoom` touches one shard.
 *
 * A read marker only ever grows: a lower seq (a late or repeated read) changes
 * nothing. A room's unread count is not stored anywhere: it is the room's last
 * seq (the message service's) minus the marker, so a message costs no write
 * per member (docs/notifications.md).
 *
 * `notify` writes; `notifications` reads. Both import this port.
 */
import { LIMITS, type Notification } from '@parley/protocol';
import { ParleyError } from '@parley/runtime';

/** A new inbox entry: what a mention of a user in a message stores (it starts unread). */
export type NewMention = Omit<Notification, 'kind' | 'read'>;

export interface InboxPage {
  /** Newest first: by ts, then by message id, both descending. */
  notifications: Notification[];
  /** The cursor of the next page; absent when this page is the last. */
  nextCursor?: string;
}

/** Most user ids one `markersOfRoom` call may name. */
export const MARKERS_OF_ROOM_MAX = 200;

export interface NotificationStore {
  /**
   * Raises the user's marker of the room to `seq` unless it is already there
   * or past it. Returns the marker after the call and whether this call raised
   * it (a missing marker counts as 0). Safe under concurrent calls: the marker
   * ends at the highest seq given, whatever the order.
   */
  advanceMarker(
    userId: string,
    roomId: string,
    seq: number,
  ): Promise<{ seq: number; moved: boolean }>;
  /** Every read marker of the user: room id → seq (rooms never read are absent, i.e. 0). */
  markersOf(userId: string): Promise<Record<string, number>>;
  /**
   * The markers of some users in one room: user id → seq, for those who have
   * one (absent = 0). At most MARKERS_OF_ROOM_MAX ids (ParleyError bad_request).
   */
  markersOfRoom(roomId: string, userIds: readonly string[]): Promise<Record<string, number>>;
  /**
   * Adds an entry to the user's inbox, once per (user, message id). Returns the
   * entry as stored, or null when it existed (a redelivery): nothing changes then.
   * The entry is stored already read when the user's marker of its room is at
   * or past its seq (they read the room before the mention reached notify).
   */
  addMention(userId: string, mention: NewMention): Promise<Notification | null>;
  /** A page of the user's inbox, newest first. `cursor` is the previous page's `nextCursor`. */
  inbox(userId: string, page: { limit: number; cursor?: string }): Promise<InboxPage>;
  /** How many of the user's inbox entries are unread. */
  unreadTotal(userId: string): Promise<number>;
  /** Marks the user's entries of these message ids (or all of them) read; returns how many changed. */
  markRead(userId: string, messageIds: readonly string[] | 'all'): Promise<number>;
  /** Marks the user's entries of the room with seq ≤ `seq` read; returns how many changed. */
  markRoomReadUpTo(userId: string, roomId: string, seq: number): Promise<number>;
}

/** The inbox order: newest first, ties on ts by message id (descending). */
export interface InboxPosition {
  ts: number;
  messageId: string;
}

/** @example encodeCursor({ ts: 1700000000000, messageId: 'm_1' }) // '1700000000000.m_1' */
export const encodeCursor = (p: InboxPosition): string => `${p.ts}.${p.messageId}`;

/**
 * Reads a cursor made by `encodeCursor` (the format NotificationsQuerySchema checks).
 * Throws ParleyError('bad_request') on anything else.
 */
export function decodeCursor(cursor: string): InboxPosition {
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{1,64})$/.exec(cursor);
  if (!m) throw new ParleyError('bad_request', 'invalid cursor');
  return { ts: Number(m[1]), messageId: m[2] as string };
}

/** True when entry `a` comes after position `p` in the inbox order (is older). */
export const isAfter = (a: InboxPosition, p: InboxPosition): boolean =>
  a.ts < p.ts || (a.ts === p.ts && a.messageId < p.messageId);

/** Throws bad_request when a `markersOfRoom` call names too many users. */
export function checkMarkersOfRoomIds(userIds: readonly string[]): void {
  if (userIds.length > MARKERS_OF_ROOM_MAX)
    throw new ParleyError('bad_request', `at most ${MARKERS_OF_ROOM_MAX} user ids per request`);
}

/**
 * The excerpt an inbox entry keeps of a message body: its first
 * LIMITS.mentionExcerptMaxChars code points (never half a surrogate pair).
 */
export const excerptOf = (body: string): string =>
  Array.from(body).slice(0, LIMITS.mentionExcerptMaxChars).join('');
