import { migrate, newId, ShardedMysql, ShardMap } from '@parley/runtime';
import { freshShardSpec, infraEnv, runId } from '@parley/tests/support/infra';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendInput } from './message-store';
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

/** A ShardedMysql that records the statements of each transaction (their first words). */
class RecordingMysql extends ShardedMysql {
  transactions: string[][] = [];
  override transaction<T>(key: string, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const statements: string[] = [];
    this.transactions.push(statements);
    return super.transaction(key, (conn) =>
      fn(
        new Proxy(conn, {
          get: (target, prop) => {
            const v = Reflect.get(target, prop, target) as unknown;
            if (typeof v !== 'function') return v;
            if (prop === 'query')
              return (sql: string, ...rest: unknown[]) => {
                statements.push(sql.trim().split(/\s+/).slice(0, 3).join(' '));
                return (v as (...a: unknown[]) => unknown).apply(target, [sql, ...rest]);
              };
            if (prop === 'rollback') statements.push('ROLLBACK');
            return (v as (...a: unknown[]) => unknown).bind(target);
          },
        }),
      ),
    );
  }
}

const input = (
  roomId: string,
  senderId: string,
  clientMsgId: string,
  over: Partial<AppendInput> = {},
): AppendInput => ({
  id: newId('m'),
  roomId,
  senderId,
  clientMsgId,
  body: `hi ${clientMsgId}`,
  ts: Date.now(),
  ...over,
});

describe('MysqlMessageStore.appendMany on MySQL', () => {
  let db: RecordingMysql;
  let store: MysqlMessageStore;
  beforeAll(async () => {
    const spec = freshShardSpec('messages');
    await migrate(spec, await messageMigrations());
    db = new RecordingMysql(ShardMap.parse(spec));
    store = new MysqlMessageStore(db);
  });
  afterAll(() => db.close());

  it('one transaction per shard, of three statements whatever the batch holds (four with a retry in it)', async () => {
    const rooms = [
      roomInHalf('lower'),
      roomInHalf('lower'),
      roomInHalf('upper'),
      roomInHalf('upper'),
    ];
    db.transactions = [];
    const batch = Array.from({ length: 12 }, (_, i) =>
      input(rooms[i % 4] as string, 'u_a', `c${i}`),
    );
    const outcomes = await store.appendMany(batch);
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
    expect(db.transactions).toHaveLength(2);
    for (const statements of db.transactions)
      expect(statements).toEqual([
        'INSERT INTO room_seq',
        expect.stringMatching(/^SELECT /),
        'INSERT INTO messages',
      ]);

    // One room: its new last seq comes back with the upsert.
    db.transactions = [];
    await store.appendMany([
      input(rooms[0] as string, 'u_a', 'd1'),
      input(rooms[0] as string, 'u_b', 'd2'),
    ]);
    expect(db.transactions).toEqual([
      ['INSERT INTO room_seq', 'SELECT room_id, seq,', 'INSERT INTO messages'],
    ]);

    // A retry among new sends: the reserved range shrinks to what was used.
    db.transactions = [];
    await store.appendMany([
      batch[0] as AppendInput,
      input(rooms[0] as string, 'u_a', 'd3'),
      input(rooms[1] as string, 'u_a', 'd4'),
    ]);
    expect(db.transactions).toEqual([
      [
        'INSERT INTO room_seq',
        expect.stringMatching(/^SELECT /),
        'UPDATE room_seq SET',
        'INSERT INTO messages',
      ],
    ]);

    // A key twice in the batch: inserted once, in the same one transaction.
    db.transactions = [];
    const twice = input(rooms[2] as string, 'u_a', 'e1');
    const outcomes2 = await store.appendMany([twice, { ...twice, id: newId('m') }]);
    expect(outcomes2.map((o) => o.status === 'fulfilled' && o.value.created)).toEqual([
      true,
      false,
    ]);
    expect(db.transactions).toEqual([
      [
        'INSERT INTO room_seq',
        'SELECT room_id, seq,',
        'UPDATE room_seq SET',
        'INSERT INTO messages',
      ],
    ]);

    // Nothing new: rolled back, nothing written.
    db.transactions = [];
    await store.appendMany([batch[0] as AppendInput, batch[4] as AppendInput]);
    expect(db.transactions).toEqual([['INSERT INTO room_seq', 'SELECT room_id, seq,', 'ROLLBACK']]);
    expect(await store.lastSeq(rooms[0] as string)).toBe(6);
  });

  it('a value the table cannot hold fails only its own input', async () => {
    const room = roomInHalf('lower');
    const outcomes = await store.appendMany([
      input(room, 'u_a', 'before'),
      input(room, 'u_a', 'huge', { body: 'x'.repeat(70_000) }), // over TEXT's 65,535 bytes
      input(room, 'u_a', 'after'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'unavailable' });
    const { messages } = await store.page(room, { after: 0, limit: 10 });
    expect(messages.map((m) => `${m.seq}:${m.clientMsgId}`)).toEqual(['1:before', '2:after']);
    expect(await store.lastSeq(room)).toBe(2);
  });

  it('a shard that is down fails the inputs of its rooms only', async () => {
    const infra = infraEnv();
    const name = `t_messages_${runId()}`;
    await migrate(`0-63=${infra.MYSQL_A_URL}/${name}_0`, await messageMigrations());
    // Logical shards 32-63 point at a port nothing listens on.
    const half = ShardedMysql.fromSpec(
      `0-31=${infra.MYSQL_A_URL}/${name}_0;32-63=mysql://parley:parley@127.0.0.1:1/${name}_1`,
    );
    try {
      const halfStore = new MysqlMessageStore(half);
      const up = roomInHalf('lower');
      const down = roomInHalf('upper');
      const outcomes = await halfStore.appendMany([
        input(up, 'u_a', 'c1'),
        input(down, 'u_a', 'c1'),
        input(up, 'u_a', 'c2'),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
        code: 'unavailable',
        retriable: true,
      });
      expect(await halfStore.lastSeq(up)).toBe(2);
    } finally {
      await half.close();
    }
  });
});
