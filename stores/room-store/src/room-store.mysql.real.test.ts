import { newId, ShardedMysql } from '@parley/runtime';
import { freshShardSpec } from '@parley/tests/support/infra';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateRoomDb } from './room-schema';
import { describeRoomStoreContract } from './room-store.contract';
import { MysqlRoomStore } from './room-store.mysql';

describeRoomStoreContract('mysql', async () => {
  const spec = freshShardSpec('rooms');
  await migrateRoomDb(spec);
  const db = ShardedMysql.fromSpec(spec);
  return { store: new MysqlRoomStore(db), close: () => db.close() };
});

describe('MysqlRoomStore on two physical shards', () => {
  let db: ShardedMysql;
  let store: MysqlRoomStore;
  beforeAll(async () => {
    const spec = freshShardSpec('rooms');
    await migrateRoomDb(spec);
    db = ShardedMysql.fromSpec(spec);
    store = new MysqlRoomStore(db);
  });
  afterAll(() => db.close());

  const count = async (pool: ReturnType<ShardedMysql['poolFor']>, table: string) => {
    const [rows] = await pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table}`);
    return Number(rows[0]?.n);
  };

  it('puts rooms on the shard of the room id and user_rooms on the shard of the user id', async () => {
    const users = Array.from({ length: 12 }, () => newId('u'));
    const rooms = [];
    for (let i = 0; i < 12; i++)
      rooms.push(
        await store.createRoom(
          { id: newId('r'), name: `r${i}`, kind: 'group', createdBy: users[i] as string },
          [users[i] as string],
        ),
      );
    const [a, b] = db.allPools() as [
      ReturnType<ShardedMysql['poolFor']>,
      ReturnType<ShardedMysql['poolFor']>,
    ];
    expect(db.allPools()).toHaveLength(2);
    for (const table of ['rooms', 'room_members', 'user_rooms']) {
      expect(await count(a, table)).toBeGreaterThan(0);
      expect(await count(b, table)).toBeGreaterThan(0);
    }
    for (const [i, room] of rooms.entries()) {
      const user = users[i] as string;
      const [own] = await db
        .poolFor(room.id)
        .query<RowDataPacket[]>('SELECT id FROM rooms WHERE id = ?', [room.id]);
      expect(own).toHaveLength(1);
      const [mine] = await db
        .poolFor(user)
        .query<RowDataPacket[]>('SELECT room_id FROM user_rooms WHERE user_id = ?', [user]);
      expect(mine.map((r) => r.room_id)).toEqual([room.id]);
    }
  });

  it('a redelivered create completes user_rooms that a crash left unwritten', async () => {
    const [alice, bob] = [newId('u'), newId('u')];
    const room = await store.createRoom(
      { id: newId('r'), name: 'half', kind: 'group', createdBy: alice },
      [alice, bob],
    );
    // The crash: room_members committed, user_rooms of bob never written.
    await db.poolFor(bob).query('DELETE FROM user_rooms WHERE user_id = ?', [bob]);
    expect(await store.roomIdsOf(bob)).toEqual([]);
    await store.createRoom({ id: room.id, name: 'half', kind: 'group', createdBy: alice }, [
      alice,
      bob,
    ]);
    expect(await store.roomIdsOf(bob)).toEqual([room.id]);
  });

  it('a repeated leave removes the user_rooms row a crash left behind', async () => {
    const [alice, bob] = [newId('u'), newId('u')];
    const room = await store.createRoom(
      { id: newId('r'), name: 'half', kind: 'group', createdBy: alice },
      [alice, bob],
    );
    // The crash: room_members row deleted, user_rooms row still there.
    await db
      .poolFor(room.id)
      .query('DELETE FROM room_members WHERE room_id = ? AND user_id = ?', [room.id, bob]);
    expect(await store.roomIdsOf(bob)).toEqual([room.id]);
    await store.removeMember(room.id, bob);
    expect(await store.roomIdsOf(bob)).toEqual([]);
  });
});
