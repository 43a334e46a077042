/**
 * The embedded mode's notification store: Maps in this process, with the
 * MySQL adapter's semantics (markers that only grow, one entry per user and
 * message, the same inbox order and cursors). Each operation runs without an
 * `await` between its read and its write, so concurrent calls cannot
 * interleave inside one.
 */
import type { Notification } from '@parley/protocol';
import {
  checkMarkersOfRoomIds,
  decodeCursor,
  encodeCursor,
  type InboxPage,
  isAfter,
  type NewMention,
  type NotificationStore,
} from './notification-store';

interface MentionRow extends NewMention {
  readAt: number | null;
}

const toNotification = (r: MentionRow): Notification => ({
  kind: 'mention',
  messageId: r.messageId,
  roomId: r.roomId,
  seq: r.seq,
  senderId: r.senderId,
  excerpt: r.excerpt,
  ts: r.ts,
  read: r.readAt !== null,
});

/** Newest first: ts descending, then message id descending (bytewise, as ascii_bin sorts). */
const newestFirst = (a: MentionRow, b: MentionRow): number =>
  b.ts - a.ts || (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0);

export class MemoryNotificationStore implements NotificationStore {
  private readonly markers = new Map<string, Map<string, number>>(); // user → room → seq
  private readonly mentions = new Map<string, Map<string, MentionRow>>(); // user → message → row

  async advanceMarker(userId: string, roomId: string, seq: number) {
    let mine = this.markers.get(userId);
    if (!mine) {
      mine = new Map();
      this.markers.set(userId, mine);
    }
    const before = mine.get(roomId);
    if (before === undefined || seq > before) mine.set(roomId, seq);
    return { seq: mine.get(roomId) as number, moved: seq > (before ?? 0) };
  }

  async markersOf(userId: string): Promise<Record<string, number>> {
    return Object.fromEntries(this.markers.get(userId) ?? []);
  }

  async markersOfRoom(roomId: string, userIds: readonly string[]) {
    checkMarkersOfRoomIds(userIds);
    const out: Record<string, number> = {};
    for (const userId of userIds) {
      const seq = this.markers.get(userId)?.get(roomId);
      if (seq !== undefined) out[userId] = seq;
    }
    return out;
  }

  async addMention(userId: string, mention: NewMention): Promise<Notification | null> {
    let mine = this.mentions.get(userId);
    if (!mine) {
      mine = new Map();
      this.mentions.set(userId, mine);
    }
    if (mine.has(mention.messageId)) return null;
    const marker = this.markers.get(userId)?.get(mention.roomId) ?? 0;
    const row: MentionRow = {
      messageId: mention.messageId,
      roomId: mention.roomId,
      seq: mention.seq,
      senderId: mention.senderId,
      excerpt: mention.excerpt,
      ts: mention.ts,
      readAt: marker >= mention.seq ? Date.now() : null,
    };
    mine.set(mention.messageId, row);
    return toNotification(row);
  }

  async inbox(userId: string, page: { limit: number; cursor?: string }): Promise<InboxPage> {
    const from = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const rows = [...(this.mentions.get(userId)?.values() ?? [])]
      .filter((r) => from === undefined || isAfter(r, from))
      .sort(newestFirst);
    const taken = rows.slice(0, page.limit);
    const last = taken.at(-1);
    return {
      notifications: taken.map(toNotification),
      ...(rows.length > page.limit && last ? { nextCursor: encodeCursor(last) } : {}),
    };
  }

  async unreadTotal(userId: string): Promise<number> {
    let n = 0;
    for (const r of this.mentions.get(userId)?.values() ?? []) if (r.readAt === null) n++;
    return n;
  }

  async markRead(userId: string, messageIds: readonly string[] | 'all'): Promise<number> {
    const mine = this.mentions.get(userId);
    if (!mine) return 0;
    const rows =
      messageIds === 'all'
        ? [...mine.values()]
        : [...new Set(messageIds)].flatMap((id) => mine.get(id) ?? []);
    return this.markRows(rows);
  }

  async markRoomReadUpTo(userId: string, roomId: string, seq: number): Promise<number> {
    const rows = [...(this.mentions.get(userId)?.values() ?? [])].filter(
      (r) => r.roomId === roomId && r.seq <= seq,
    );
    return this.markRows(rows);
  }

  private markRows(rows: MentionRow[]): number {
    const now = Date.now();
    let changed = 0;
    for (const r of rows) {
      if (r.readAt !== null) continue;
      r.readAt = now;
      changed++;
    }
    return changed;
  }
}
