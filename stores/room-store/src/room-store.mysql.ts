/**
 * The room store on sharded MySQL (see room-store.ts for where each table's
 * rows live). A room and its room_members rows share a shard, so creating a
 * room with its members is one transaction; user_rooms rows are on other
 * shards and are written afterwards, idempotently, from room_members.
 */
import { dmPairKey } from '@parley/eventing';
import type { Room, RoomKind } from '@parley/protocol';
import { ParleyError, type ShardedMysql } from '@parley/runtime';
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { NewRoom, RoomStore } from './room-store';

interface RoomRow extends RowDataPacket {
  id: string;
  name: string;
  kind: RoomKind;
  member_count: number | string;
}

const ROOM_SELECT =
  'SELECT r.id, r.name, r.kind, (SELECT COUNT(*) FROM room_members m WHERE m.room_id = r.id) AS member_count FROM rooms r';

const toRoom = (r: RoomRow): Room => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  memberCount: Number(r.member_count),
  lastSeq: 0,
});

export class MysqlRoomStore implements RoomStore {
  constructor(private readonly db: ShardedMysql) {}

  async createRoom(room: NewRoom, memberIds: string[]): Promise<Room> {
    const now = Date.now();
    const ids = [...new Set(memberIds)];
    await this.db.transaction(room.id, async (conn) => {
      const [res] = await conn.execute<ResultSetHeader>(
        'INSERT IGNORE INTO rooms (id, name, kind, created_by, created_at) VALUES (?, ?, ?, ?, ?)',
        [room.id, room.name, room.kind, room.createdBy, now],
      );
      // An existing room keeps its members: this is a repeat, not a new room.
      if (res.affectedRows === 1 && ids.length > 0) {
        await conn.query('INSERT IGNORE INTO room_members (room_id, user_id, joined_at) VALUES ?', [
          ids.map((id) => [room.id, id, now]),
        ]);
      }
    });
    // Other shards: completes user_rooms from the truth, also after an earlier crash here.
    const [members] = await this.db
      .poolFor(room.id)
      .execute<RowDataPacket[]>('SELECT user_id, joined_at FROM room_members WHERE room_id = ?', [
        room.id,
      ]);
    await Promise.all(
      members.map((m) =>
        this.db
          .poolFor(m.user_id)
          .execute('INSERT IGNORE INTO user_rooms (user_id, room_id, joined_at) VALUES (?, ?, ?)', [
            m.user_id,
            room.id,
            m.joined_at,
          ]),
      ),
    );
    return (await this.getRoom(room.id)) as Room;
  }

  async openDm(a: string, b: string, candidateRoomId: string, name: string) {
    const key = dmPairKey(a, b);
    const pool = this.db.poolFor(key);
    // Claim the pair; under concurrency exactly one candidate's row survives.
    await pool.execute('INSERT IGNORE INTO dm_pairs (pair_key, room_id) VALUES (?, ?)', [
      key,
      candidateRoomId,
    ]);
    const [rows] = await pool.execute<RowDataPacket[]>(
      'SELECT room_id FROM dm_pairs WHERE pair_key = ?',
      [key],
    );
    const roomId = rows[0]?.room_id as string;
    // Also completes a DM whose claimer crashed before creating the room.
    const room = await this.createRoom({ id: roomId, name, kind: 'dm', createdBy: a }, [a, b]);
    return { room, created: roomId === candidateRoomId };
  }

  async addMember(roomId: string, userId: string, commandId?: string): Promise<boolean> {
    const added = await this.db.transaction(roomId, async (conn) => {
      const [room] = await conn.execute<RowDataPacket[]>('SELECT id FROM rooms WHERE id = ?', [
        roomId,
      ]);
      if (room.length === 0) throw new ParleyError('not_found', `room ${roomId} does not exist`);
      if (await this.applied(conn, commandId)) return true;
      const [res] = await conn.execute<ResultSetHeader>(
        'INSERT IGNORE INTO room_members (room_id, user_id, joined_at) VALUES (?, ?, ?)',
        [roomId, userId, Date.now()],
      );
      if (res.affectedRows === 1) await this.markApplied(conn, roomId, commandId);
      return res.affectedRows === 1;
    });
    await this.syncUserRoom(roomId, userId);
    return added;
  }

  async removeMember(roomId: string, userId: string, commandId?: string): Promise<boolean> {
    const removed = await this.db.transaction(roomId, async (conn) => {
      if (await this.applied(conn, commandId)) return true;
      const [res] = await conn.execute<ResultSetHeader>(
        'DELETE FROM room_members WHERE room_id = ? AND user_id = ?',
        [roomId, userId],
      );
      if (res.affectedRows === 1) await this.markApplied(conn, roomId, commandId);
      return res.affectedRows === 1;
    });
    await this.syncUserRoom(roomId, userId);
    return removed;
  }

  async getRoom(roomId: string): Promise<Room | null> {
    const [rows] = await this.db
      .poolFor(roomId)
      .execute<RoomRow[]>(`${ROOM_SELECT} WHERE r.id = ?`, [roomId]);
    return rows[0] ? toRoom(rows[0]) : null;
  }

  async memberIds(roomId: string): Promise<string[]> {
    const [rows] = await this.db
      .poolFor(roomId)
      .execute<RowDataPacket[]>(
        'SELECT user_id FROM room_members WHERE room_id = ? ORDER BY joined_at, user_id',
        [roomId],
      );
    return rows.map((r) => r.user_id as string);
  }

  async roomIdsOf(userId: string): Promise<string[]> {
    const [rows] = await this.db
      .poolFor(userId)
      .execute<RowDataPacket[]>(
        'SELECT room_id FROM user_rooms WHERE user_id = ? ORDER BY joined_at, room_id',
        [userId],
      );
    return rows.map((r) => r.room_id as string);
  }

  async roomsOf(userId: string): Promise<Room[]> {
    const ids = await this.roomIdsOf(userId);
    // One query per physical database holding some of the rooms.
    const byTarget = new Map<string, string[]>();
    for (const id of ids) {
      const target = this.db.map.targetFor(id);
      byTarget.set(target, [...(byTarget.get(target) ?? []), id]);
    }
    const found = new Map<string, Room>();
    await Promise.all(
      [...byTarget.values()].map(async (group) => {
        const [rows] = await this.db
          .poolFor(group[0] as string)
          .query<RoomRow[]>(`${ROOM_SELECT} WHERE r.id IN (?)`, [group]);
        for (const r of rows) found.set(r.id, toRoom(r));
      }),
    );
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  private async applied(conn: PoolConnection, commandId: string | undefined): Promise<boolean> {
    if (commandId === undefined) return false;
    const [rows] = await conn.execute<RowDataPacket[]>(
      'SELECT 1 FROM applied_commands WHERE command_id = ?',
      [commandId],
    );
    return rows.length > 0;
  }

  private async markApplied(conn: PoolConnection, roomId: string, commandId: string | undefined) {
    if (commandId === undefined) return;
    await conn.execute(
      'INSERT IGNORE INTO applied_commands (command_id, room_id, applied_at) VALUES (?, ?, ?)',
      [commandId, roomId, Date.now()],
    );
  }

  /** Makes user_rooms (user's shard) agree with room_members (room's shard) for one pair. */
  private async syncUserRoom(roomId: string, userId: string): Promise<void> {
    const [rows] = await this.db
      .poolFor(roomId)
      .execute<RowDataPacket[]>(
        'SELECT joined_at FROM room_members WHERE room_id = ? AND user_id = ?',
        [roomId, userId],
      );
    const pool = this.db.poolFor(userId);
    if (rows[0]) {
      await pool.execute(
        'INSERT IGNORE INTO user_rooms (user_id, room_id, joined_at) VALUES (?, ?, ?)',
        [userId, roomId, rows[0].joined_at],
      );
    } else {
      await pool.execute('DELETE FROM user_rooms WHERE user_id = ? AND room_id = ?', [
        userId,
        roomId,
      ]);
    }
  }
}
