import { migrate, newId, type ParleyError, readMigrations } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FreshUsersDb, freshUsersDb } from './testing';
import { describeUserStoreContract, namespace, record } from './user-store.contract';
import { MysqlUserStore, USERS_MIGRATIONS_DIR } from './user-store.mysql';

describeUserStoreContract('mysql, 2 physical shards', async () => {
  const { db, drop } = await freshUsersDb();
  return { store: new MysqlUserStore(db), close: drop };
});

describe('MysqlUserStore sharding', () => {
  let h: FreshUsersDb;
  let store: MysqlUserStore;
  beforeAll(async () => {
    h = await freshUsersDb();
    store = new MysqlUserStore(h.db);
  });
  afterAll(async () => {
    await h?.drop();
  });

  const [poolA, poolB] = [() => h.db.allPools()[0], () => h.db.allPools()[1]];
  const count = async (pool: ReturnType<typeof poolA>, sql: string, params: unknown[]) => {
    const [rows] = await (pool as NonNullable<typeof pool>).query(sql, params);
    return Number((rows as { n: number }[])[0]?.n);
  };
  /** An id whose logical shard is on physical database A (shard < 32) or B. */
  const idOn = (side: 'A' | 'B'): string => {
    for (;;) {
      const id = newId('u');
      if (h.db.map.shardOf(id) < 32 === (side === 'A')) return id;
    }
  };

  it('users land on both physical shards, each on the shard of its id', async () => {
    const ns = namespace();
    const a = record(`${ns}.ona`, { id: idOn('A') });
    const b = record(`${ns}.onb`, { id: idOn('B') });
    await store.create(a);
    await store.create(b);
    const q = 'SELECT COUNT(*) AS n FROM users WHERE id = ?';
    expect([await count(poolA(), q, [a.id]), await count(poolB(), q, [a.id])]).toEqual([1, 0]);
    expect([await count(poolA(), q, [b.id]), await count(poolB(), q, [b.id])]).toEqual([0, 1]);
    expect((await store.byIds([b.id, a.id])).map((u) => u.id)).toEqual([b.id, a.id]);
  });

  it('the username index row lives on the shard of the username', async () => {
    const r = record(`${namespace()}.idx`);
    await store.create(r);
    const onA = h.db.map.shardOf(r.username) < 32;
    const q = 'SELECT COUNT(*) AS n FROM usernames WHERE username = ? AND user_id = ?';
    const found = [
      await count(poolA(), q, [r.username, r.id]),
      await count(poolB(), q, [r.username, r.id]),
    ];
    expect(found).toEqual(onA ? [1, 0] : [0, 1]);
  });

  it('a sign-up race for one username leaves exactly one users row behind', async () => {
    const username = `${namespace()}.dup`;
    // The contenders' ids on both physical shards: uniqueness must hold across shards.
    const contenders = [idOn('A'), idOn('B'), idOn('A'), idOn('B')].map((id) =>
      record(username, { id }),
    );
    const results = await Promise.allSettled(contenders.map((r) => store.create(r)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as ParleyError).code).toBe('username_taken');
    }
    const q = 'SELECT COUNT(*) AS n FROM users WHERE username = ?';
    expect((await count(poolA(), q, [username])) + (await count(poolB(), q, [username]))).toBe(1);
  });

  it('running the migrations again changes nothing', async () => {
    expect(await migrate(h.spec, await readMigrations(USERS_MIGRATIONS_DIR))).toBe(0);
  });
});
