/**
 * The mentions inbox as the client holds it, as pure functions: entries newest first, one per
 * message whatever way it arrived (a page, a live `notification` frame), and the unread total
 * the server last said (the badge), corrected locally when this client marks entries read.
 */
import type { Notification } from '@parley/protocol/model';

export interface InboxState {
  /** Newest first (time, then message id, as the server pages them). */
  items: readonly Notification[];
  /** Unread entries in all: the badge. */
  unreadTotal: number;
  /** Present when the server may have older entries: "Load more". */
  nextCursor: string | null;
  /** The first page has been read at least once. */
  loaded: boolean;
  loading: boolean;
  loadingMore: boolean;
  /** Why the inbox could not be read, for the person. */
  error: string | null;
}

export const emptyInbox: InboxState = {
  items: [],
  unreadTotal: 0,
  nextCursor: null,
  loaded: false,
  loading: false,
  loadingMore: false,
  error: null,
};

const newestFirst = (a: Notification, b: Notification) =>
  b.ts - a.ts || (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0);

/** The entries of both, one per message (`incoming` wins: it is the newer word), newest first. */
export function mergeNotifications(
  have: readonly Notification[],
  incoming: readonly Notification[],
): Notification[] {
  const byId = new Map(have.map((n) => [n.messageId, n]));
  for (const n of incoming) byId.set(n.messageId, n);
  return [...byId.values()].sort(newestFirst);
}

/**
 * Marks the entries `which` selects read. Returns the entries and how many of them were unread
 * (what the unread total drops by, until the server's count says so).
 */
export function markRead(
  items: readonly Notification[],
  which: (n: Notification) => boolean,
): { items: readonly Notification[]; marked: number } {
  let marked = 0;
  const next = items.map((n) => {
    if (n.read || !which(n)) return n;
    marked++;
    return { ...n, read: true };
  });
  return marked === 0 ? { items, marked } : { items: next, marked };
}
