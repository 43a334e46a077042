/**
 * The message store on sharded MySQL: every row of a room lives on the room's
 * shard, so a room's seq assignment and insert are one local transaction.
 */
import type { Message } from '@parley/protocol';
import { ParleyError, type ShardedMysql } from '@parley/runtime';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type {
  AppendInput,
  AppendResult,
  MessageStore,
  Page,
  PageQuery,
  RoomSummary,
} from './message-store';

/** Attempts of one append when InnoDB picks it as a deadlock victim or a lock wait times out. */
const APPEND_ATTEMPTS = 5;
const RETRIABLE_LOCK_ERRORS = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const COLUMNS = 'room_id, seq, id, sender_id, client_msg_id, body, ts, edited_ts, deleted';

interface MessageRow extends RowDataPacket {
  room_id: string;
  seq: number;
  id: string;
  sender_id: string;
  client_msg_id: string;
  body: string;
  ts: number;
  edited_ts: number | null;
  deleted: number;
}

function toMessage(r: MessageRow): Message {
  const m: Message = {
    id: r.id,
    roomId: r.room_id,
    seq: Number(r.seq),
    senderId: r.sender_id,
    body: r.body,
    ts: Number(r.ts),
    clientMsgId: r.client_msg_id,
  };
  if (r.edited_ts !== null) m.editedTs = Number(r.edited_ts);
  if (r.deleted) m.deleted = true;
  return m;
}

const errorCode = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;

/** Every database failure is worth retrying from the caller's point of view (the event is redelivered). */
function unavailable(what: string, err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  return new ParleyError('unavailable', `message store: ${what} failed`, { cause: err });
}

const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10 * attempt));

export class MysqlMessageStore implements MessageStore {
  constructor(private readonly db: ShardedMysql) {}

  async append(input: AppendInput): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(input.roomId, (conn) => this.appendIn(conn, input));
      } catch (err) {
        const code = errorCode(err);
        if (code && RETRIABLE_LOCK_ERRORS.has(code) && attempt < APPEND_ATTEMPTS) {
          await backoff(attempt);
          continue;
        }
        if (code === 'ER_DUP_ENTRY') {
          // Only reachable if the lock protocol below were bypassed; the unique keys are the backstop.
          const existing = await this.findByClientKey(this.db.poolFor(input.roomId), input);
          if (existing) return { message: existing, created: false };
          throw new ParleyError('conflict', `message id ${input.id} is taken`, { cause: err });
        }
        throw unavailable('append', err);
      }
    }
  }

  private async appendIn(conn: PoolConnection, input: AppendInput): Promise<AppendResult> {
    // 1. Take the room's next seq and lock its counter row in one round trip:
    //    from here until commit every other writer of this room waits, so the
    //    seq is free, and a rollback (below, or on any error) gives it back —
    //    no seq is skipped or reused. For a new room the row is inserted with
    //    1; otherwise LAST_INSERT_ID(expr) hands the incremented value back in
    //    the OK packet, so no SELECT is needed.
    const [counter] = await conn.query<ResultSetHeader>(
      'INSERT INTO room_seq (room_id, last_seq) VALUES (?, 1) ON DUPLICATE KEY UPDATE last_seq = LAST_INSERT_ID(last_seq + 1)',
      [input.roomId],
    );
    const seq = counter.affectedRows === 1 ? 1 : Number(counter.insertId);
    // 2. Idempotency. A plain (non-locking) read on purpose: its snapshot is
    //    taken now, after the lock, so it sees every committed write of this
    //    room; a locking read would add gap locks that neighbouring rooms
    //    share in the unique index. A retry rolls the increment back.
    const existing = await this.findByClientKey(conn, input);
    if (existing) {
      await conn.rollback();
      return { message: existing, created: false };
    }
    // 3. Insert with that seq, in the same transaction as the increment.
    await conn.query(
      'INSERT INTO messages (room_id, seq, id, sender_id, client_msg_id, body, ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [input.roomId, seq, input.id, input.senderId, input.clientMsgId, input.body, input.ts],
    );
    return {
      message: {
        id: input.id,
        roomId: input.roomId,
        seq,
        senderId: input.senderId,
        body: input.body,
        ts: input.ts,
        clientMsgId: input.clientMsgId,
      },
      created: true,
    };
  }

  private async findByClientKey(
    conn: Pool | PoolConnection,
    input: Pick<AppendInput, 'roomId' | 'senderId' | 'clientMsgId'>,
  ): Promise<Message | undefined> {
    const [rows] = await conn.query<MessageRow[]>(
      `SELECT ${COLUMNS} FROM messages WHERE room_id = ? AND sender_id = ? AND client_msg_id = ?`,
      [input.roomId, input.senderId, input.clientMsgId],
    );
    return rows[0] ? toMessage(rows[0]) : undefined;
  }

  async find(roomId: string, senderId: string, clientMsgId: string): Promise<Message | undefined> {
    try {
      return await this.findByClientKey(this.db.poolFor(roomId), { roomId, senderId, clientMsgId });
    } catch (err) {
      throw unavailable('find', err);
    }
  }

  async page(roomId: string, query: PageQuery): Promise<Page> {
    const { before, after, limit } = query;
    // One row more than asked tells whether there are more.
    let sql: string;
    let params: unknown[];
    if (after !== undefined) {
      sql = `SELECT ${COLUMNS} FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`;
      params = [roomId, after, limit + 1];
    } else if (before !== undefined) {
      sql = `SELECT ${COLUMNS} FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`;
      params = [roomId, before, limit + 1];
    } else {
      sql = `SELECT ${COLUMNS} FROM messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?`;
      params = [roomId, limit + 1];
    }
    let rows: MessageRow[];
    try {
      [rows] = await this.db.poolFor(roomId).query<MessageRow[]>(sql, params);
    } catch (err) {
      throw unavailable('page', err);
    }
    const hasMore = rows.length > limit;
    const messages = rows.slice(0, limit).map(toMessage);
    if (after === undefined) messages.reverse();
    return { messages, hasMore };
  }

  async lastSeq(roomId: string): Promise<number> {
    try {
      const [rows] = await this.db
        .poolFor(roomId)
        .query<RowDataPacket[]>('SELECT last_seq FROM room_seq WHERE room_id = ?', [roomId]);
      return Number(rows[0]?.last_seq ?? 0);
    } catch (err) {
      throw unavailable('lastSeq', err);
    }
  }

  async summaries(roomIds: readonly string[]): Promise<Map<string, RoomSummary>> {
    const out = new Map<string, RoomSummary>();
    const byTarget = new Map<string, string[]>();
    for (const id of new Set(roomIds)) {
      out.set(id, { lastSeq: 0 });
      const target = this.db.map.targetFor(id);
      byTarget.set(target, [...(byTarget.get(target) ?? []), id]);
    }
    // One query per physical shard, in parallel.
    await Promise.all(
      [...byTarget.values()].map(async (ids) => {
        let rows: (MessageRow & { r_room_id: string; last_seq: number })[];
        try {
          [rows] = await this.db
            .poolFor(ids[0] as string)
            .query<(MessageRow & { r_room_id: string; last_seq: number })[]>(
              `SELECT r.room_id AS r_room_id, r.last_seq, m.room_id, m.seq, m.id, m.sender_id,
                    m.client_msg_id, m.body, m.ts, m.edited_ts, m.deleted
               FROM room_seq r
               LEFT JOIN messages m ON m.room_id = r.room_id AND m.seq = r.last_seq
              WHERE r.room_id IN (?)`,
              [ids],
            );
        } catch (err) {
          throw unavailable('summaries', err);
        }
        for (const r of rows) {
          const summary: RoomSummary = { lastSeq: Number(r.last_seq) };
          if (r.id !== null) summary.lastMessage = toMessage(r);
          out.set(r.r_room_id, summary);
        }
      }),
    );
    return out;
  }
}
