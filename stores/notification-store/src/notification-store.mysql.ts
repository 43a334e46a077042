/**
 * The notification store on sharded MySQL (NOTIFY_DB_SHARDS). Every row is on
 * the shard of its user id; only `markersOfRoom` reads several shards (one
 * query per physical database holding some of the users).
 *
 * No statement here needs a multi-statement transaction: each write is one
 * statement that locks one row (or the rows of one user), so concurrent calls
 * serialize on InnoDB's row locks and never deadlock each other.
 */
import type { Notification } from '@parley/protocol';
import type { ShardedMysql } from '@parley/runtime';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import {
  checkMarkersOfRoomIds,
  decodeCursor,
  encodeCursor,
  type InboxPage,
  type NewMention,
  type NotificationStore,
} from './notification-store';

interface MentionRow extends RowDataPacket {
  message_id: string;
  room_id: string;
  seq: number | string;
  sender_id: string;
  excerpt: string;
  ts: number | string;
  read_at: number | string | null;
}

const MENTION_COLUMNS = 'message_id, room_id, seq, sender_id, excerpt, ts, read_at';

const toNotification = (r: MentionRow): Notification => ({
  kind: 'mention',
  messageId: r.message_id,
  roomId: r.room_id,
  seq: Number(r.seq),
  senderId: r.sender_id,
  excerpt: r.excerpt,
  ts: Number(r.ts),
  read: r.read_at !== null,
});

export class MysqlNotificationStore implements NotificationStore {
  constructor(private readonly db: ShardedMysql) {}

  async advanceMarker(userId: string, roomId: string, seq: number) {
    const pool = this.db.poolFor(userId);
    const now = Date.now();
    // Raise an existing marker; the WHERE makes "matched" mean "grew", whatever
    // the connection's FOUND_ROWS flag (an upsert's affectedRows could not tell
    // an insert from an unchanged row).
    const raise = async () => {
      const [res] = await pool.execute<ResultSetHeader>(
        'UPDATE read_markers SET seq = ?, updated_at = ? WHERE user_id = ? AND room_id = ? AND seq < ?',
        [seq, now, userId, roomId, seq],
      );
      return res.affectedRows === 1;
    };
    let moved = await raise();
    if (!moved) {
      const [ins] = await pool.execute<ResultSetHeader>(
        'INSERT IGNORE INTO read_markers (user_id, room_id, seq, updated_at) VALUES (?, ?, ?, ?)',
        [userId, roomId, seq, now],
      );
      // Inserted: the marker was absent (0). Ignored: it exists — at or past seq,
      // or a concurrent call inserted it just now with a lower seq: raise it then.
      moved = ins.affectedRows === 1 ? seq > 0 : await raise();
    }
    const [rows] = await pool.execute<RowDataPacket[]>(
      'SELECT seq FROM read_markers WHERE user_id = ? AND room_id = ?',
      [userId, roomId],
    );
    return { seq: Number(rows[0]?.seq ?? seq), moved };
  }

  async markersOf(userId: string): Promise<Record<string, number>> {
    const [rows] = await this.db
      .poolFor(userId)
      .execute<RowDataPacket[]>('SELECT room_id, seq FROM read_markers WHERE user_id = ?', [
        userId,
      ]);
    return Object.fromEntries(rows.map((r) => [r.room_id as string, Number(r.seq)]));
  }

  async markersOfRoom(roomId: string, userIds: readonly string[]) {
    checkMarkersOfRoomIds(userIds);
    const byTarget = new Map<string, string[]>();
    for (const id of new Set(userIds)) {
      const target = this.db.map.targetFor(id);
      byTarget.set(target, [...(byTarget.get(target) ?? []), id]);
    }
    const out: Record<string, number> = {};
    await Promise.all(
      [...byTarget.values()].map(async (group) => {
        const [rows] = await this.db
          .poolFor(group[0] as string)
          .query<RowDataPacket[]>(
            'SELECT user_id, seq FROM read_markers WHERE user_id IN (?) AND room_id = ?',
            [group, roomId],
          );
        for (const r of rows) out[r.user_id as string] = Number(r.seq);
      }),
    );
    return out;
  }

  async addMention(userId: string, mention: NewMention): Promise<Notification | null> {
    const pool = this.db.poolFor(userId);
    // One statement: the marker is read under a shared lock (INSERT … SELECT), so
    // a concurrent read of the room either sees this row (and marks it) or has
    // raised the marker first (and the row is born read). Never unread forever.
    const [res] = await pool.execute<ResultSetHeader>(
      `INSERT IGNORE INTO mentions (user_id, message_id, room_id, seq, sender_id, excerpt, ts, read_at)
       SELECT ?, ?, ?, ?, ?, ?, ?,
         IF(COALESCE((SELECT m.seq FROM read_markers m WHERE m.user_id = ? AND m.room_id = ?), 0) >= ?, ?, NULL)`,
      [
        userId,
        mention.messageId,
        mention.roomId,
        mention.seq,
        mention.senderId,
        mention.excerpt,
        mention.ts,
        userId,
        mention.roomId,
        mention.seq,
        Date.now(),
      ],
    );
    if (res.affectedRows !== 1) return null;
    const [rows] = await pool.execute<MentionRow[]>(
      `SELECT ${MENTION_COLUMNS} FROM mentions WHERE user_id = ? AND message_id = ?`,
      [userId, mention.messageId],
    );
    return rows[0] ? toNotification(rows[0]) : null;
  }

  async inbox(userId: string, page: { limit: number; cursor?: string }): Promise<InboxPage> {
    const from = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const after = from ? 'AND (ts < ? OR (ts = ? AND message_id < ?))' : '';
    const params: unknown[] = [userId];
    if (from) params.push(from.ts, from.ts, from.messageId);
    params.push(page.limit + 1); // one more than asked: tells whether a next page exists
    const [rows] = await this.db
      .poolFor(userId)
      .query<MentionRow[]>(
        `SELECT ${MENTION_COLUMNS} FROM mentions WHERE user_id = ? ${after} ORDER BY ts DESC, message_id DESC LIMIT ?`,
        params,
      );
    const notifications = rows.slice(0, page.limit).map(toNotification);
    const last = notifications.at(-1);
    return {
      notifications,
      ...(rows.length > page.limit && last ? { nextCursor: encodeCursor(last) } : {}),
    };
  }

  async unreadTotal(userId: string): Promise<number> {
    const [rows] = await this.db
      .poolFor(userId)
      .execute<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM mentions WHERE user_id = ? AND read_at IS NULL',
        [userId],
      );
    return Number(rows[0]?.n ?? 0);
  }

  async markRead(userId: string, messageIds: readonly string[] | 'all'): Promise<number> {
    if (messageIds !== 'all' && messageIds.length === 0) return 0;
    const [res] = await this.db
      .poolFor(userId)
      .query<ResultSetHeader>(
        `UPDATE mentions SET read_at = ? WHERE user_id = ? AND read_at IS NULL${messageIds === 'all' ? '' : ' AND message_id IN (?)'}`,
        messageIds === 'all' ? [Date.now(), userId] : [Date.now(), userId, [...messageIds]],
      );
    return res.affectedRows;
  }

  async markRoomReadUpTo(userId: string, roomId: string, seq: number): Promise<number> {
    const [res] = await this.db
      .poolFor(userId)
      .execute<ResultSetHeader>(
        'UPDATE mentions SET read_at = ? WHERE user_id = ? AND room_id = ? AND seq <= ? AND read_at IS NULL',
        [Date.now(), userId, roomId, seq],
      );
    return res.affectedRows;
  }
}
