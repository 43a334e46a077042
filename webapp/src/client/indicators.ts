/**
 * What the live signals come to on screen, as pure functions: the unread count a room shows and
 * the tab title, the typing line, and which of my messages in a DM says "Seen".
 */
import type { Message } from '@parley/protocol/model';

/** The app's name: the tab title without unread messages. */
export const APP_TITLE = 'Parley';

/** The tab title: `(3) Parley` with 3 unread messages in all, `Parley` with none. */
export function documentTitle(totalUnread: number, base = APP_TITLE): string {
  return totalUnread > 0 ? `(${totalUnread}) ${base}` : base;
}

/** What the unread functions need of a room. */
export interface UnreadRoom {
  id: string;
  unread: number;
}

/**
 * The count a room shows: none for the room being read (open, in a visible and focused window),
 * whose `read` is on its way — the server's count for it lags by that round trip.
 */
export function shownUnread(room: UnreadRoom, readingRoomId: string | null): number {
  return room.id === readingRoomId ? 0 : Math.max(0, room.unread);
}

/** Unread messages in all rooms, as the room list shows them (the tab title's number). */
export function totalUnread(rooms: readonly UnreadRoom[], readingRoomId: string | null): number {
  let n = 0;
  for (const r of rooms) n += shownUnread(r, readingRoomId);
  return n;
}

/** The typing line for these names (in the order they started typing); '' for nobody. */
export function typingText(names: readonly string[]): string {
  const [a, b] = names;
  if (a === undefined) return '';
  if (b === undefined) return `${a} is typing…`;
  if (names.length === 2) return `${a} and ${b} are typing…`;
  return 'Several people are typing…';
}

/**
 * The message of mine that says "Seen" in a DM: my last message whose seq is at most the other
 * member's read seq. Messages are in seq order; null when they have read none of mine.
 */
export function seenMessageId(
  messages: readonly Pick<Message, 'id' | 'seq' | 'senderId'>[],
  me: string,
  otherReadSeq: number | undefined,
): string | null {
  if (otherReadSeq === undefined) return null;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && m.senderId === me && m.seq <= otherReadSeq) return m.id;
  }
  return null;
}
