import { migrate, newId, readMigrations, ShardedMysql } from '@parley/runtime';
import { freshShardSpec } from '@parley/tests/support/infra';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrateNotificationDb } from './notification-schema';
import { describeNotificationStoreContract } from './notification-store.contract';
import { MysqlNotificationStore } from './notification-store.mysql';

describeNotificationStoreContract('mysql, 2 physical shards', async () => {
  const spec = freshShardSpec('notify');
  await migrateNotificationDb(spec);
  const db = ShardedMysql.fromSpec(spec);
  return { store: new MysqlNotificationStore(db), close: () => db.close() };
});

describe('MysqlNotificationStore on two physical shards', () => {
  let spec: string;
  let db: ShardedMysql;
  let store: MysqlNotificationStore;
  beforeAll(async () => {
    spec = freshShardSpec('notify');
    await migrateNotificationDb(spec);
    db = ShardedMysql.fromSpec(spec);
    store = new MysqlNotificationStore(db);
  });
  afterAll(() => db.close());

  /** A user id whose logical shard is on physical database A (shard < 32) or B. */
  const idOn = (side: 'A' | 'B'): string => {
    for (;;) {
      const id = newId('u');
      if (db.map.shardOf(id) < 32 === (side === 'A')) return id;
    }
  };
  const rowsOf = async (side: 0 | 1, table: string, userId: string) => {
    const [rows] = await (db.allPools()[side] as ReturnType<ShardedMysql['poolFor']>).query<
      RowDataPacket[]
    >(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?`, [userId]);
    return Number(rows[0]?.n);
  };

  it("puts a user's markers and mentions on the shard of the user id", async () => {
    expect(db.allPools()).toHaveLength(2);
    const [a, b] = [idOn('A'), idOn('B')];
    const room = newId('r');
    for (const u of [a, b]) {
      await store.advanceMarker(u, room, 3);
      await store.addMention(u, {
        messageId: newId('m'),
        roomId: room,
        seq: 5,
        senderId: 'u_x',
        excerpt: 'hi',
        ts: 1,
      });
    }
    for (const table of ['read_markers', 'mentions']) {
      expect([await rowsOf(0, table, a), await rowsOf(1, table, a)]).toEqual([1, 0]);
      expect([await rowsOf(0, table, b), await rowsOf(1, table, b)]).toEqual([0, 1]);
    }
    expect(await store.markersOfRoom(room, [b, a])).toEqual({ [a]: 3, [b]: 3 });
  });

  it('running the migrations again changes nothing', async () => {
    expect(await migrate(spec, await readMigrations(MIGRATIONS_DIR))).toBe(0);
  });
});
