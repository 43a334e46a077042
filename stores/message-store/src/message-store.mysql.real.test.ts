import { migrate, ShardedMysql } from '@parley/runtime';
import { freshShardSpec } from '@parley/tests/support/infra';
import type { Pool, RowDataPacket } from 'mysql2/promise';
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
      await store.append({
        id: `m_${room}`,
        roomId: room,
        senderId: 'u_a',
        clientMsgId: 'c1',
        body: 'x',
        ts: 1,
      });
    }
    // allPools() follows the shard map: logical shards 0-31 first, then 32-63.
    const roomsOn = async (pool: Pool) => {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT room_id FROM messages');
      return rows.map((r) => r.room_id as string);
    };
    const pools = db.allPools();
    expect(pools).toHaveLength(2);
    expect(await Promise.all(pools.map(roomsOn))).toEqual([[lower], [upper]]);
  });

  it('migrating again applies nothing', async () => {
    const spec = freshShardSpec('messages');
    expect(await migrate(spec, await messageMigrations())).toBe(2);
    expect(await migrate(spec, await messageMigrations())).toBe(0);
  });
});
