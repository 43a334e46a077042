import { freePort, freshShardSpec, infraEnv } from '@parley/tests/support/infra';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardMap } from '../sharding/shard-map';
import { migrate } from './migrate';
import { ShardedMysql } from './sharded-mysql';

/** The value of `name` for exactly these labels, as a scrape collects it; undefined if absent. */
async function gauge(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = await registry.getSingleMetric(name)?.get();
  const found = metric?.values.filter((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  if (found && found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} is ambiguous`);
  return found?.[0]?.value;
}

describe('the shard pool gauges, on the real MariaDB shards', () => {
  const registry = new Registry();
  let spec: string;
  let shards: string[];
  let db: ShardedMysql;

  beforeAll(async () => {
    spec = freshShardSpec('poolmetrics');
    await migrate(spec, []);
    shards = ShardMap.parse(spec)
      .targets()
      .map((t) => new URL(t).pathname.slice(1));
    db = ShardedMysql.fromSpec(spec, {
      connectionLimit: 3,
      metrics: { registry, database: 'messages' },
    });
  });
  afterAll(() => db.close());

  it('reports every shard up with its connection limit, named by its database only', async () => {
    expect(shards).toHaveLength(2);
    for (const shard of shards) {
      expect(await gauge(registry, 'parley_db_shard_up', { database: 'messages', shard })).toBe(1);
      expect(
        await gauge(registry, 'parley_db_pool_max_connections', { database: 'messages', shard }),
      ).toBe(3);
    }
    const text = await registry.metrics();
    expect(text).not.toContain('mysql://');
    // Nor its host: the name is the database alone, these being unique.
    expect(text).not.toContain(new URL(infraEnv().MYSQL_A_URL).host);
  });

  it('counts used, idle and queued connections of a shard', async () => {
    const [pool] = db.allPools();
    if (!pool) throw new Error('no pool');
    const shard = shards[0] as string;
    const state = (s: string) =>
      gauge(registry, 'parley_db_pool_connections', { database: 'messages', shard, state: s });
    // Take all three connections, then ask for a fourth: it waits.
    const held = await Promise.all([1, 2, 3].map(() => pool.getConnection()));
    const fourth = pool.getConnection();
    expect([await state('used'), await state('idle'), await state('queued')]).toEqual([3, 0, 1]);
    for (const c of held) c.release();
    (await fourth).release();
    expect([await state('used'), await state('idle'), await state('queued')]).toEqual([0, 3, 0]);
  });

  it('reports 0 for a shard whose server is not there, beside the live ones', async () => {
    const url = new URL(infraEnv().MYSQL_A_URL);
    url.port = String(await freePort()); // nothing listens there: connections are refused
    url.pathname = '/parley_rooms_gone';
    const gone = ShardedMysql.fromSpec(url.toString(), {
      metrics: { registry, database: 'rooms' },
    });
    try {
      const labels = { database: 'rooms', shard: 'parley_rooms_gone' };
      expect(await gauge(registry, 'parley_db_shard_up', labels)).toBe(0);
      expect(await gauge(registry, 'parley_db_pool_max_connections', labels)).toBe(10);
      // The other database's shards, in the same registry, are still up.
      const up = { database: 'messages', shard: shards[1] as string };
      expect(await gauge(registry, 'parley_db_shard_up', up)).toBe(1);
    } finally {
      await gone.close();
    }
    // Closed, it is no longer reported.
    expect(
      await gauge(registry, 'parley_db_shard_up', {
        database: 'rooms',
        shard: 'parley_rooms_gone',
      }),
    ).toBeUndefined();
  });
});
