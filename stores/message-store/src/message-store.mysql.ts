/**
 * The message store on sharded MySQL: every row of a room lives on the room's
 * shard, so a room's seq assignment and insert are one local transaction —
 * and a batch of sends is one transaction per shard (`appendMany`).
 */
import type { Message } from '@parley/protocol';
import { ParleyError, type ShardedMysql } from '@parley/runtime';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type {
  AppendInput,
  AppendOutcome,
  AppendResult,
  MessageStore,
  Page,
  PageQuery,
  RoomSummary,
} from './message-store';

/** Attempts of one shard's transaction when InnoDB picks it as a deadlock victim or a lock wait times out. */
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

/** A row of the read that follows the reservation: a counter ('c', its last_seq in `seq`) or a stored message ('m'). */
interface StateRow extends MessageRow {
  kind: 'c' | 'm';
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

/**
 * The server refused a statement (it answered with an SQL error, the
 * connection is fine): about the data, unlike a lost connection. Such an
 * error in a batch may be one input's fault.
 */
const isStatementError = (err: unknown): boolean =>
  typeof err === 'object' &&
  err !== null &&
  typeof (err as { sqlState?: unknown }).sqlState === 'string' &&
  !(err as { fatal?: unknown }).fatal;

/** Every database failure is worth retrying from the caller's point of view (the event is redelivered). */
function unavailable(what: string, err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  return new ParleyError('unavailable', `message store: ${what} failed`, { cause: err });
}

const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10 * attempt));

/** The idempotency key of a send, as one string. */
const clientKey = (roomId: string, senderId: string, clientMsgId: string) =>
  `${roomId}\n${senderId}\n${clientMsgId}`;

const fulfilled = (value: AppendResult): AppendOutcome => ({ status: 'fulfilled', value });
const rejected = (reason: unknown): AppendOutcome => ({ status: 'rejected', reason });

export class MysqlMessageStore implements MessageStore {
  constructor(private readonly db: ShardedMysql) {}

  async append(input: AppendInput): Promise<AppendResult> {
    const [outcome] = await this.appendOnShard([input]);
    if (outcome?.status !== 'fulfilled') throw outcome?.reason;
    return outcome.value;
  }

  /** One transaction per physical shard of the batch, the shards in parallel. */
  async appendMany(inputs: readonly AppendInput[]): Promise<AppendOutcome[]> {
    const byTarget = new Map<string, number[]>();
    inputs.forEach((input, i) => {
      const target = this.db.map.targetFor(input.roomId);
      const places = byTarget.get(target);
      if (places) places.push(i);
      else byTarget.set(target, [i]);
    });
    const outcomes: AppendOutcome[] = new Array(inputs.length);
    await Promise.all(
      [...byTarget.values()].map(async (places) => {
        const answers = await this.appendOnShard(places.map((i) => inputs[i] as AppendInput));
        places.forEach((place, j) => {
          outcomes[place] = answers[j] as AppendOutcome;
        });
      }),
    );
    return outcomes;
  }

  /**
   * The inputs of one physical shard (at least one) in one transaction,
   * retried when InnoDB picks it as a deadlock victim or a lock wait times
   * out. Only two things can fail a single row: a message id that is taken
   * (ids are random, so practically never), or a value the table cannot hold
   * (which the `parley.message.send` schema rules out: ids of at most 64
   * `[A-Za-z0-9_-]`, a printable-ASCII clientMsgId, a body of at most 4,000
   * code points). Either fails the whole statement, so when the server
   * refuses one, every input is tried again alone, in input order, and only
   * the bad one fails.
   */
  private async appendOnShard(inputs: readonly AppendInput[]): Promise<AppendOutcome[]> {
    const first = inputs[0] as AppendInput;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const results = await this.db.transaction(first.roomId, (conn) =>
            this.appendIn(conn, inputs),
          );
          return results.map(fulfilled);
        } catch (err) {
          const code = errorCode(err);
          if (code && RETRIABLE_LOCK_ERRORS.has(code) && attempt < APPEND_ATTEMPTS) {
            await backoff(attempt);
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      const code = errorCode(err);
      if (
        inputs.length > 1 &&
        isStatementError(err) &&
        !(code && RETRIABLE_LOCK_ERRORS.has(code))
      ) {
        const alone: AppendOutcome[] = [];
        for (const input of inputs) alone.push(...(await this.appendOnShard([input])));
        return alone;
      }
      if (inputs.length === 1 && code === 'ER_DUP_ENTRY') {
        // A taken message id; or a send stored meanwhile, if the lock protocol below were bypassed.
        try {
          const existing = await this.findByClientKey(this.db.poolFor(first.roomId), first);
          if (existing) return [fulfilled({ message: existing, created: false })];
        } catch (findErr) {
          return [rejected(unavailable('append', findErr))];
        }
        return [
          rejected(new ParleyError('conflict', `message id ${first.id} is taken`, { cause: err })),
        ];
      }
      const failure = unavailable('append', err);
      return inputs.map(() => rejected(failure));
    }
  }

  /**
   * One shard's inputs in the open transaction `conn`: three statements
   * between BEGIN and COMMIT whatever their number (four when a retry, or a
   * key twice, is among them), as many as one append had:
   *
   * 1. Reserve each room's seq range and lock its counter row: one upsert
   *    adds the room's number of inputs n to last_seq (a new room's row is
   *    inserted with n). From here until commit every other writer of these
   *    rooms waits, so the range is free, and a rollback (on any error) gives
   *    it back — no seq is skipped or reused. The rows are locked in room id
   *    order, the same in every batch, so two batches cannot deadlock on them
   *    (on gap locks they still can, rarely: the caller retries).
   *    For one room, LAST_INSERT_ID(expr) hands the new last_seq back in the
   *    OK packet; for several, the read below returns them.
   * 2. Idempotency: one plain (non-locking) read of every input's key. Its
   *    snapshot is taken now, after the locks, so it sees every committed
   *    write of these rooms; a locking read would add gap locks that
   *    neighbouring rooms share in the unique index.
   * 3. The new inputs take their room's range in input order. A key already
   *    stored, or seen earlier in the batch, answers with that message
   *    (created=false) and takes no seq; the range then shrinks to what was
   *    used (an update of the counters), so no seq is skipped. When nothing
   *    is new the transaction is rolled back instead.
   * 4. One multi-row insert of the new messages, in the same transaction as
   *    the counters.
   */
  private async appendIn(
    conn: PoolConnection,
    inputs: readonly AppendInput[],
  ): Promise<AppendResult[]> {
    const counts = new Map<string, number>();
    for (const input of inputs) counts.set(input.roomId, (counts.get(input.roomId) ?? 0) + 1);
    const rooms = [...counts.keys()].sort();
    const keys = inputs.map((i) => [i.roomId, i.senderId, i.clientMsgId]);
    const lastSeqs = new Map<string, number>();
    let storedRows: MessageRow[];
    if (rooms.length === 1) {
      const room = rooms[0] as string;
      const n = counts.get(room) as number;
      const [counter] = await conn.query<ResultSetHeader>(
        'INSERT INTO room_seq (room_id, last_seq) VALUES (?, ?) ON DUPLICATE KEY UPDATE last_seq = LAST_INSERT_ID(last_seq + VALUES(last_seq))',
        [room, n],
      );
      lastSeqs.set(room, counter.affectedRows === 1 ? n : Number(counter.insertId));
      [storedRows] = await conn.query<MessageRow[]>(
        `SELECT ${COLUMNS} FROM messages WHERE (room_id, sender_id, client_msg_id) IN (?)`,
        [keys],
      );
    } else {
      await conn.query(
        'INSERT INTO room_seq (room_id, last_seq) VALUES ? ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)',
        [rooms.map((room) => [room, counts.get(room)])],
      );
      const [rows] = await conn.query<StateRow[]>(
        `SELECT 'c' AS kind, room_id, last_seq AS seq, NULL AS id, NULL AS sender_id, NULL AS client_msg_id,
                NULL AS body, NULL AS ts, NULL AS edited_ts, NULL AS deleted
           FROM room_seq WHERE room_id IN (?)
         UNION ALL
         SELECT 'm' AS kind, ${COLUMNS} FROM messages WHERE (room_id, sender_id, client_msg_id) IN (?)`,
        [rooms, keys],
      );
      storedRows = [];
      for (const r of rows) {
        if (r.kind === 'c') lastSeqs.set(r.room_id, Number(r.seq));
        else storedRows.push(r);
      }
    }

    const known = new Map<string, Message>();
    for (const r of storedRows)
      known.set(clientKey(r.room_id, r.sender_id, r.client_msg_id), toMessage(r));
    /** Each room's next free seq: the first of its reserved range. */
    const next = new Map<string, number>();
    for (const room of rooms) {
      const last = lastSeqs.get(room);
      if (last === undefined) throw new Error(`room_seq row of ${room} not found after its upsert`);
      next.set(room, last - (counts.get(room) as number) + 1);
    }
    const rows: unknown[][] = [];
    const results = inputs.map((input): AppendResult => {
      const key = clientKey(input.roomId, input.senderId, input.clientMsgId);
      const already = known.get(key);
      if (already) return { message: { ...already }, created: false };
      const seq = next.get(input.roomId) as number;
      next.set(input.roomId, seq + 1);
      const message: Message = {
        id: input.id,
        roomId: input.roomId,
        seq,
        senderId: input.senderId,
        body: input.body,
        ts: input.ts,
        clientMsgId: input.clientMsgId,
      };
      known.set(key, message);
      rows.push([
        input.roomId,
        seq,
        input.id,
        input.senderId,
        input.clientMsgId,
        input.body,
        input.ts,
      ]);
      return { message: { ...message }, created: true };
    });

    if (rows.length === 0) {
      await conn.rollback();
      return results;
    }
    const shrink = rooms.filter(
      (room) => (next.get(room) as number) - 1 < (lastSeqs.get(room) as number),
    );
    if (shrink.length > 0) {
      await conn.query(
        `UPDATE room_seq SET last_seq = CASE room_id ${shrink.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE room_id IN (?)`,
        [...shrink.flatMap((room) => [room, (next.get(room) as number) - 1]), shrink],
      );
    }
    await conn.query(
      'INSERT INTO messages (room_id, seq, id, sender_id, client_msg_id, body, ts) VALUES ?',
      [rows],
    );
    return results;
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
