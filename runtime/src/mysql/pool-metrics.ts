/**
 * The MySQL pools of a process as Prometheus gauges, read when Prometheus scrapes (a gauge's
 * `collect`), so nothing is counted on the query path:
 * - `parley_db_pool_connections{database,shard,state}`: `used` (lent out), `idle` (open, free)
 *   and `queued` (requests waiting for a connection, the pool being at its limit);
 * - `parley_db_pool_max_connections{database,shard}`: the pool's connection limit;
 * - `parley_db_shard_up{database,shard}`: 1 when a `SELECT 1` on the shard's pool answers within
 *   a second, else 0 — what the ParleyShardDown alert reads (docs/operations.md).
 * `database` is the logical database (`messages`, `rooms`, …), `shard` the physical shard's name
 * (`physicalShardNames`).
 */
import type { Pool } from 'mysql2/promise';
import { Gauge, type Registry } from 'prom-client';

/** One physical shard's pool, as a scrape sees it. */
export interface ShardPool {
  shard: string;
  pool: Pool;
}

/** The pools of one logical database; `pools` is called at each scrape. */
export interface ShardPoolSource {
  database: string;
  pools: () => ShardPool[];
}

/** How long a scrape waits for a shard's `SELECT 1` before calling it down. */
export const SHARD_PING_TIMEOUT_MS = 1000;

/** The sources reporting into each registry (its three gauges are made with the first). */
const sourcesOf = new WeakMap<Registry, Set<ShardPoolSource>>();

/**
 * Reports `source`'s pools in `registry` until the returned function is called (on close).
 * @example const stop = instrumentShardPools(registry, { database: 'messages', pools: () => […] });
 */
export function instrumentShardPools(registry: Registry, source: ShardPoolSource): () => void {
  let sources = sourcesOf.get(registry);
  if (!sources) {
    sources = new Set();
    sourcesOf.set(registry, sources);
    makeGauges(registry, sources);
  }
  const set = sources;
  set.add(source);
  return () => {
    set.delete(source);
  };
}

function makeGauges(registry: Registry, sources: Set<ShardPoolSource>): void {
  const each = function* () {
    for (const { database, pools } of sources) {
      for (const { shard, pool } of pools()) yield { labels: { database, shard }, pool };
    }
  };
  new Gauge({
    name: 'parley_db_pool_connections',
    help: 'Connections of a shard pool by state: used (lent out), idle (open and free), queued (requests waiting for a connection)',
    labelNames: ['database', 'shard', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, pool } of each()) {
        const { used, idle, queued } = poolCounts(pool);
        this.set({ ...labels, state: 'used' }, used);
        this.set({ ...labels, state: 'idle' }, idle);
        this.set({ ...labels, state: 'queued' }, queued);
      }
    },
  });
  new Gauge({
    name: 'parley_db_pool_max_connections',
    help: 'The connection limit of a shard pool',
    labelNames: ['database', 'shard'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, pool } of each())
        this.set(labels, pool.pool.config.connectionLimit ?? 0);
    },
  });
  new Gauge({
    name: 'parley_db_shard_up',
    help: `1 when a SELECT 1 on the shard's pool answered within ${SHARD_PING_TIMEOUT_MS} ms at scrape time, else 0`,
    labelNames: ['database', 'shard'],
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        [...each()].map(async ({ labels, pool }) =>
          this.set(labels, (await shardUp(pool)) ? 1 : 0),
        ),
      );
    },
  });
}

/** The mysql2 core pool's private queues (mysql2 3.x), as far as `poolCounts` reads them. */
interface CorePoolQueues {
  _allConnections?: { length?: unknown };
  _freeConnections?: { length?: unknown };
  _connectionQueue?: { length?: unknown };
}

/**
 * Used, idle and queued of a pool. mysql2 exposes no public counts: its core pool (behind the
 * promise wrapper's `pool`) keeps them in private queues — every open connection, the free ones,
 * and the callbacks waiting for one. This is the only place that reads them; a field a later
 * mysql2 renames reads as 0 instead of failing the scrape.
 */
export function poolCounts(pool: Pool): { used: number; idle: number; queued: number } {
  const core = pool.pool as unknown as CorePoolQueues;
  const size = (queue: { length?: unknown } | undefined) =>
    typeof queue?.length === 'number' ? queue.length : 0;
  const all = size(core._allConnections);
  const idle = size(core._freeConnections);
  return { used: Math.max(0, all - idle), idle, queued: size(core._connectionQueue) };
}

/** The ping in flight on each pool: a server that hangs gets one, not one more per scrape. */
const pings = new WeakMap<Pool, Promise<boolean>>();

/** True when a `SELECT 1` on `pool` answers within SHARD_PING_TIMEOUT_MS. */
export async function shardUp(pool: Pool, timeoutMs = SHARD_PING_TIMEOUT_MS): Promise<boolean> {
  let ping = pings.get(pool);
  if (!ping) {
    const started = pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
    ping = started;
    pings.set(pool, started);
    void started.then(() => pings.delete(pool));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([ping, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The name of each physical shard of a shard map: the database of its URL (`parley_messages_0`,
 * as the migration logs name it), or `host:port/database` when two targets share a database
 * name. Never the URL itself, which carries the password.
 * @example physicalShardNames(['mysql://u:p@a:3306/db_0', 'mysql://u:p@b:3306/db_1']) // Map { … → 'db_0', … → 'db_1' }
 */
export function physicalShardNames(targets: readonly string[]): Map<string, string> {
  const parts = targets.map((target) => {
    const url = new URL(target);
    return { target, host: url.host, db: decodeURIComponent(url.pathname.replace(/^\//, '')) };
  });
  const count = new Map<string, number>();
  for (const p of parts) count.set(p.db, (count.get(p.db) ?? 0) + 1);
  return new Map(
    parts.map((p) => [p.target, p.db && count.get(p.db) === 1 ? p.db : `${p.host}/${p.db}`]),
  );
}
