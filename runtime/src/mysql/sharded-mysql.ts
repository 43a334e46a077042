/**
 * A service's sharded MySQL: one mysql2 pool per physical database of its
 * shard map, picked by the key's logical shard.
 */
import mysql, { type Pool, type PoolConnection } from 'mysql2/promise';
import type { Registry } from 'prom-client';
import { ShardMap } from '../sharding/shard-map';
import { instrumentShardPools, physicalShardNames } from './pool-metrics';

export interface ShardedMysqlOptions {
  /** Connections per physical database. */
  connectionLimit?: number;
  /**
   * Reports the pools in `registry` (`parley_db_pool_*`, `parley_db_shard_up`; pool-metrics.ts),
   * labelled `database` (the logical database: `messages`, `rooms`, …) and `shard`.
   */
  metrics?: { registry: Registry; database: string };
}

export class ShardedMysql {
  private readonly pools = new Map<string, Pool>();
  private readonly stopMetrics: (() => void) | undefined;

  constructor(
    readonly map: ShardMap,
    private readonly opts: ShardedMysqlOptions = {},
  ) {
    if (opts.metrics) {
      const names = physicalShardNames(map.targets());
      // Every shard of the map, used yet or not: a shard nobody has queried can still be down.
      this.stopMetrics = instrumentShardPools(opts.metrics.registry, {
        database: opts.metrics.database,
        pools: () =>
          map.targets().map((t) => ({ shard: names.get(t) as string, pool: this.pool(t) })),
      });
    }
  }

  /** @example ShardedMysql.fromSpec(cfg.MESSAGE_DB_SHARDS) */
  static fromSpec(spec: string, opts?: ShardedMysqlOptions): ShardedMysql {
    return new ShardedMysql(ShardMap.parse(spec), opts);
  }

  private pool(target: string): Pool {
    let pool = this.pools.get(target);
    if (!pool) {
      pool = mysql.createPool({
        uri: target,
        connectionLimit: this.opts.connectionLimit ?? 10,
        waitForConnections: true,
        enableKeepAlive: true,
        supportBigNumbers: true,
        bigNumberStrings: false,
        charset: 'utf8mb4',
        timezone: 'Z',
      });
      this.pools.set(target, pool);
    }
    return pool;
  }

  /** The pool of the physical database holding `key`. */
  poolFor(key: string): Pool {
    return this.pool(this.map.targetFor(key));
  }

  /** One pool per physical database (for scatter-gather reads and migrations). */
  allPools(): Pool[] {
    return this.map.targets().map((t) => this.pool(t));
  }

  /**
   * Runs `fn` in a transaction on the shard of `key`; commits on success,
   * rolls back on any error and rethrows it.
   */
  async transaction<T>(key: string, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.poolFor(key).getConnection();
    try {
      await conn.beginTransaction();
      const result = await fn(conn);
      await conn.commit();
      return result;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  async ping(): Promise<boolean> {
    await Promise.all(this.allPools().map((p) => p.query('SELECT 1')));
    return true;
  }

  async close(): Promise<void> {
    this.stopMetrics?.();
    await Promise.all([...this.pools.values()].map((p) => p.end()));
    this.pools.clear();
  }
}
