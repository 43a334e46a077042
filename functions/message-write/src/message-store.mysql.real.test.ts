import { migrate, ShardedMysql } from '@parley/runtime';
import { freshShardSpec } from '@parley/tests/support/infra';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeMessageStoreContract, roomInHalf } from './message-store.contract';
import { MysqlMessageStore } from './message-store.mysql';
import { messageMigrations } from './migrations';

describeMessageStoreContract('mysql (two physical shards)', async () => {
  const spec = freshShardSpec('messages');
  await migrate(spec, await messageMigrations());
  const db = ShardedMysql.fromSpec(spec);
  return { store: new MysqlMessageStore(db), teardown: () => db.close() };
});

describe('MysqlMessageStore placement', () => {
  let db: ShardedMysql;
  let store: MysqlMessageStore;
  beforeAll(async () => {
    const spec = freshShardSpec('messages');
    await migrate(spec, await messageMigrations());
    db = ShardedMysql.fromSpec(spec);
    store = new MysqlMessageStore(db);
  });
  afterAll(() => db.close());

  it('stores each room only on the physical database of its logical shard', async () => {
    const lower = roomInHalf('lower');
    const upper = roomInHalf('upper');
    for (const room of [lower, upper]) {
      await store.append({ id: `m_${room}`, roomId: room, senderId: 'u_a', clientMsgId: 'c1', body: 'x', ts: 1 });
    }
    const [a, b] = db.allPools();
    const roomsOn = async (pool: typeof a) => {
      const [rows] = await pool!.query<RowDataPacket[]>('SELECT room_id FROM messages ORDER BY room_id');
      return rows.map((r) => r.room_id as string);
    };
    expect(db.allPools()).toHaveLength(2);
    expect(await roomsOn(a)).toEqual([lower]);
    expect(await roomsOn(b)).toEqual([upper]);
  });

  it('migrating again applies nothing', async () => {
    const spec = freshShardSpec('messages');
    expect(await migrate(spec, await messageMigrations())).toBe(2);
    expect(await migrate(spec, await messageMigrations())).toBe(0);
  });
});
