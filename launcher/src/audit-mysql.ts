/**
 * Reading the message DB for the audit: which rooms to audit, and each
 * room's messages and counter in one consistent, read-only snapshot (so a
 * send committed meanwhile cannot look like a hole). Rows are validated
 * with zod on the way in, like any other edge.
 */
import type { Message } from '@parley/protocol';
import type { ShardedMysql } from '@parley/runtime';
import { z } from 'zod';
import type { StoredRoom } from './audit-rows';

const RowSchema = z.object({
  room_id: z.string(),
  seq: z.coerce.number().int(),
  id: z.string(),
  sender_id: z.string(),
  client_msg_id: z.string(),
  body: z.string(),
  ts: z.coerce.number().int(),
  edited_ts: z.coerce.number().int().nullable(),
  deleted: z.coerce.number(),
});
const RowsSchema = z.array(RowSchema);
const RoomIdsSchema = z.array(z.object({ room_id: z.string() }));
const CounterSchema = z.array(z.object({ last_seq: z.coerce.number().int() }));

const COLUMNS = 'room_id, seq, id, sender_id, client_msg_id, body, ts, edited_ts, deleted';
/** Rows per query while reading a room. */
const CHUNK = 5_000;

function toMessage(r: z.infer<typeof RowSchema>): Message {
  const m: Message = {
    id: r.id,
    roomId: r.room_id,
    seq: r.seq,
    senderId: r.sender_id,
    body: r.body,
    ts: r.ts,
    clientMsgId: r.client_msg_id,
  };
  if (r.edited_ts !== null) m.editedTs = r.edited_ts;
  if (r.deleted) m.deleted = true;
  return m;
}

export interface DiscoveredRooms {
  /** Rooms found on the database that owns them. */
  rooms: string[];
  /** Rooms found on a database that does not own them (rows left behind by a shard move). */
  stray: { roomId: string; database: string }[];
}

/**
 * The rooms with a counter or a message (all), or with a message stored at or
 * after `sinceMs` — on every physical database of the map. The `ts` filter scans
 * the table (no index on ts): an operator's query, not a hot path.
 */
export async function discoverRooms(
  db: ShardedMysql,
  sinceMs: number | undefined,
): Promise<DiscoveredRooms> {
  const targets = db.map.targets();
  const pools = db.allPools();
  const rooms = new Set<string>();
  const stray: DiscoveredRooms['stray'] = [];
  await Promise.all(
    pools.map(async (pool, i) => {
      const target = targets[i] as string;
      const [rows] =
        sinceMs === undefined
          ? await pool.query(
              'SELECT room_id FROM room_seq UNION SELECT DISTINCT room_id FROM messages',
            )
          : await pool.query('SELECT DISTINCT room_id FROM messages WHERE ts >= ?', [sinceMs]);
      for (const { room_id } of RoomIdsSchema.parse(rows)) {
        if (db.map.targetFor(room_id) === target) rooms.add(room_id);
        else stray.push({ roomId: room_id, database: target });
      }
    }),
  );
  return { rooms: [...rooms].sort(), stray };
}

/** A room's counter and messages, in one read-only snapshot. */
export async function readRoom(db: ShardedMysql, roomId: string): Promise<StoredRoom> {
  const conn = await db.poolFor(roomId).getConnection();
  try {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [counterRows] = await conn.query('SELECT last_seq FROM room_seq WHERE room_id = ?', [
      roomId,
    ]);
    const counter = CounterSchema.parse(counterRows)[0]?.last_seq;
    const messages: Message[] = [];
    // Paged by seq (the primary key's second column), so a big room is read in bounded chunks.
    for (let after = Number.MIN_SAFE_INTEGER; ; ) {
      const [rows] = await conn.query(
        `SELECT ${COLUMNS} FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
        [roomId, after, CHUNK],
      );
      const chunk = RowsSchema.parse(rows).map(toMessage);
      messages.push(...chunk);
      if (chunk.length < CHUNK) break;
      after = (chunk[chunk.length - 1] as Message).seq;
    }
    await conn.query('COMMIT');
    return { roomId, messages, counter };
  } finally {
    conn.release();
  }
}

/** Messages stored after a snapshot (seq above `afterSeq`), read now. */
export async function readLater(
  db: ShardedMysql,
  roomId: string,
  afterSeq: number,
): Promise<Message[]> {
  const [rows] = await db
    .poolFor(roomId)
    .query(`SELECT ${COLUMNS} FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq`, [
      roomId,
      afterSeq,
    ]);
  return RowsSchema.parse(rows).map(toMessage);
}
