/**
 * Part 3 of bench:large-room: what a message of the large room costs notify on
 * real MariaDB, against the design notify does not have — a stored unread
 * count per member, incremented by every message.
 *
 * A fresh notification DB on both MariaDB instances of tests/infra/up
 * (logical shards 0-31 on A, 32-63 on B, as the real mode maps them), migrated
 * by `migrateNotificationDb`. Every member of the room has a read marker (0),
 * as if each had opened the room once, so the table is the size it would be.
 *
 * - **notify:** `createNotify` over MysqlNotificationStore (its calls counted,
 *   and the SQL statements under them), a MemoryFanout (publishes counted),
 *   every membership true, a users lookup and a last-seq stub (neither is
 *   asked about a message without mentions). EVENTS `parley.message.created`
 *   events of the room, no mentions, SENDERS members taking turns, delivered
 *   one at a time as HTTP binary CloudEvents into `cloudEventApp` (in process,
 *   no socket), as the KafkaSource does with one event in flight per
 *   partition: wall and CPU per event.
 * - **per-member counts:** `unread_counts (user_id, room_id, n)` with an index
 *   on room_id, one row per member on the shard of the member's id; each
 *   message is `UPDATE unread_counts SET n = n + 1 WHERE room_id = ?` on both
 *   shards at once. NAIVE messages: wall per message.
 *
 * For both, the CPU of the two mariadbd processes (from /proc, 10 ms ticks;
 * their pid files are in the infra directory) over the whole series: most of
 * the second design's cost is there, not in this process. The databases are
 * dropped at the end, also when the run fails.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cloudEventApp,
  createEvent,
  type FanoutPayload,
  MemoryFanout,
  toHttpBinary,
} from '@parley/eventing';
import { createNotify } from '@parley/fn-notify/handler';
import { infraDir, infraEnv, twoShardSpec } from '@parley/launcher/infra';
import type { NotificationStore } from '@parley/notification-store';
import { migrateNotificationDb } from '@parley/notification-store/migrations';
import { MysqlNotificationStore } from '@parley/notification-store/mysql';
import { createLogger, ShardedMysql, ShardMap } from '@parley/runtime';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { Registry } from 'prom-client';
import {
  BenchFailure,
  cpuMsSince,
  memberId,
  procCpuTicks,
  ROOM_ID,
  roomMessage,
  round,
  summary,
  TICKS_PER_SECOND,
} from './shared';

/** The store's methods that write (the rest read). */
const WRITES = new Set(['advanceMarker', 'addMention', 'markRead', 'markRoomReadUpTo']);

/** A ShardedMysql whose pools count the statements run through them (`execute` and `query`). */
class CountingMysql extends ShardedMysql {
  statements = 0;
  private readonly counted = new WeakMap<Pool, Pool>();

  override poolFor(key: string): Pool {
    const pool = super.poolFor(key);
    let proxy = this.counted.get(pool);
    if (!proxy) {
      proxy = new Proxy(pool, {
        get: (target, prop) => {
          const v = Reflect.get(target, prop, target) as unknown;
          if (typeof v !== 'function') return v;
          if (prop === 'execute' || prop === 'query')
            return (...args: unknown[]) => {
              this.statements++;
              return (v as (...a: unknown[]) => unknown).apply(target, args);
            };
          return (v as (...a: unknown[]) => unknown).bind(target);
        },
      });
      this.counted.set(pool, proxy);
    }
    return proxy;
  }
}

/** The store with every method call counted by name. */
function countCalls(store: NotificationStore) {
  const calls = new Map<string, number>();
  const counted = new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const total = () => [...calls.values()].reduce((a, b) => a + b, 0);
  const writes = () => [...calls].filter(([k]) => WRITES.has(k)).reduce((a, [, n]) => a + n, 0);
  return { store: counted, calls, total, writes };
}

/** The mariadbd processes of tests/infra/up (pid files in the infra directory), for their CPU. */
function mariadbPids(): number[] {
  const pids: number[] = [];
  for (const which of ['mysqlA', 'mysqlB']) {
    try {
      pids.push(Number(readFileSync(join(infraDir(), which, 'mariadbd.pid'), 'utf8').trim()));
    } catch {
      // not readable: the DB CPU is then left out of the record
    }
  }
  return pids.filter((p) => procCpuTicks(p) !== undefined);
}

const dbTicks = (pids: number[]) => pids.reduce((a, p) => a + (procCpuTicks(p) ?? 0), 0);

/** Inserts rows (keyed by user id) in chunks of 1,000, each on the shard of its key. */
async function insertByShard(
  db: ShardedMysql,
  sql: string,
  rows: { key: string; values: unknown[] }[],
): Promise<void> {
  const byTarget = new Map<string, { key: string; values: unknown[][] }>();
  for (const r of rows) {
    const t = db.map.targetFor(r.key);
    const group = byTarget.get(t) ?? { key: r.key, values: [] };
    group.values.push(r.values);
    byTarget.set(t, group);
  }
  for (const { key, values } of byTarget.values()) {
    const pool = db.poolFor(key);
    for (let i = 0; i < values.length; i += 1000)
      await pool.query(sql, [values.slice(i, i + 1000)]);
  }
}

export interface NotifyCostOptions {
  members: number;
  /** Measured `message.created` events through notify. */
  events: number;
  /** Members who send them, taking turns. */
  senders: number;
  /** Measured messages of the per-member design. */
  naiveMessages: number;
  /** Events through notify before the measured ones (not counted). */
  notifyWarmup: number;
  /** Per-member UPDATEs before the measured ones (not counted). */
  naiveWarmup: number;
  progress: (line: string) => void;
}

/** Runs part 3 and returns its numbers; drops its databases whatever happens. */
export async function notifyCost(opts: NotifyCostOptions) {
  const infra = infraEnv();
  const name = `parley_bench_large_room_${randomBytes(4).toString('hex')}`;
  const spec = twoShardSpec(infra, name);
  const db = new CountingMysql(ShardMap.parse(spec), { connectionLimit: 4 });
  const dbPids = mariadbPids();
  try {
    await migrateNotificationDb(spec);
    const members = Array.from({ length: opts.members }, (_, i) => memberId(i));
    const now = Date.now();
    await insertByShard(
      db,
      'INSERT INTO read_markers (user_id, room_id, seq, updated_at) VALUES ?',
      members.map((u) => ({ key: u, values: [u, ROOM_ID, 0, now] })),
    );
    for (const pool of db.allPools())
      await pool.query(
        `CREATE TABLE unread_counts (
           user_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
           room_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
           n INT NOT NULL DEFAULT 0,
           PRIMARY KEY (user_id, room_id),
           KEY unread_counts_by_room (room_id)
         ) ENGINE = InnoDB`,
      );
    await insertByShard(
      db,
      'INSERT INTO unread_counts (user_id, room_id, n) VALUES ?',
      members.map((u) => ({ key: u, values: [u, ROOM_ID, 0] })),
    );
    const perShard = db.map
      .targets()
      .map((t) => members.filter((u) => db.map.targetFor(u) === t).length);
    opts.progress(`  ${opts.members} members on the two shards: ${perShard.join(' + ')}`);

    // ── notify ────────────────────────────────────────────────────────────
    const counted = countCalls(new MysqlNotificationStore(db));
    const published: FanoutPayload[] = [];
    const fanout = new (class extends MemoryFanout {
      override async publish(channel: string, payload: FanoutPayload) {
        published.push(payload);
        return super.publish(channel, payload);
      }
    })();
    let lookups = 0;
    const log = createLogger('bench-notify', 'error');
    const notify = createNotify({
      store: counted.store,
      isMember: async () => true,
      fanout,
      users: {
        byUsernames: async (names) => {
          lookups++;
          return names.map((n) => ({ id: `u_${n}`, username: n, displayName: n }));
        },
      },
      lastSeqOf: async () => {
        lookups++;
        return 0;
      },
      log,
    });
    const app = cloudEventApp(notify, { log, registry: new Registry() });
    const senderOf = (seq: number) => memberId((seq - 1) % opts.senders);
    const request = (seq: number) => {
      const m = roomMessage(seq, senderOf(seq));
      return toHttpBinary(
        createEvent(
          'parley.message.created',
          { message: m },
          { source: 'message-write', id: `${m.id}.created` },
        ),
      );
    };
    const deliver = async (req: ReturnType<typeof request>) => {
      const res = await app.request('/', { method: 'POST', headers: req.headers, body: req.body });
      if (res.status !== 202)
        throw new BenchFailure(`part 3: notify answered ${res.status}: ${await res.text()}`);
    };
    const warm = opts.notifyWarmup;
    for (let seq = 1; seq <= warm; seq++) await deliver(request(seq));
    const calls0 = counted.total();
    const writes0 = counted.writes();
    const advances0 = counted.calls.get('advanceMarker') ?? 0;
    const statements0 = db.statements;
    const wallMs: number[] = [];
    const cpuMs: number[] = [];
    const ticks0 = dbTicks(dbPids);
    const seriesStart = performance.now();
    const seriesCpu = process.cpuUsage();
    for (let seq = warm + 1; seq <= warm + opts.events; seq++) {
      const req = request(seq); // built before the clock: creating it is message-write's work
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await deliver(req);
      wallMs.push(performance.now() - t0);
      cpuMs.push(cpuMsSince(cpu0));
    }
    const seriesWallMs = performance.now() - seriesStart;
    const seriesCpuMs = cpuMsSince(seriesCpu);
    const notifyDbCpuMs = ((dbTicks(dbPids) - ticks0) * 1000) / TICKS_PER_SECOND;
    const storeCalls = counted.total() - calls0;
    const storeWrites = counted.writes() - writes0;
    const advances = (counted.calls.get('advanceMarker') ?? 0) - advances0;
    const statements = db.statements - statements0;
    // What the design promises: one write per message (the sender's marker), nothing published,
    // nobody looked up, and every sender's marker at the last seq they sent.
    if (storeCalls !== opts.events || advances !== opts.events)
      throw new BenchFailure(
        `part 3: ${storeCalls} store calls (${advances} advanceMarker) for ${opts.events} events: ${JSON.stringify(Object.fromEntries(counted.calls))}`,
      );
    if (published.length > 0 || lookups > 0)
      throw new BenchFailure(`part 3: ${published.length} publishes, ${lookups} lookups`);
    const lastSent = new Map<string, number>();
    for (let seq = 1; seq <= warm + opts.events; seq++) lastSent.set(senderOf(seq), seq);
    for (const [u, seq] of await readMarkers(db, members))
      if (seq !== (lastSent.get(u) ?? 0))
        throw new BenchFailure(`part 3: ${u}'s marker is ${seq}, expected ${lastSent.get(u) ?? 0}`);
    opts.progress(
      `  notify: ${opts.events} events, ${round(seriesWallMs / opts.events)} ms each; per-member counts…`,
    );

    // ── a stored count per member ───────────────────────────────────────
    const naive = async () => {
      const results = await Promise.all(
        db
          .allPools()
          .map((p) =>
            p.execute<ResultSetHeader>('UPDATE unread_counts SET n = n + 1 WHERE room_id = ?', [
              ROOM_ID,
            ]),
          ),
      );
      const rows = results.reduce((a, [r]) => a + r.affectedRows, 0);
      if (rows !== opts.members)
        throw new BenchFailure(`part 3: the per-member UPDATE changed ${rows} rows`);
      return rows;
    };
    for (let i = 0; i < opts.naiveWarmup; i++) await naive();
    let naiveRows = 0;
    const naiveWallMs: number[] = [];
    const naiveCpuMs: number[] = [];
    const naiveTicks0 = dbTicks(dbPids);
    const naiveStart = performance.now();
    for (let i = 0; i < opts.naiveMessages; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      naiveRows += await naive();
      naiveWallMs.push(performance.now() - t0);
      naiveCpuMs.push(cpuMsSince(cpu0));
    }
    const naiveSeriesWallMs = performance.now() - naiveStart;
    const naiveDbCpuMs = ((dbTicks(dbPids) - naiveTicks0) * 1000) / TICKS_PER_SECOND;
    let total = 0;
    for (const pool of db.allPools()) {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT SUM(n) AS s FROM unread_counts');
      total += Number(rows[0]?.s ?? 0);
    }
    if (total !== opts.members * (opts.naiveWarmup + opts.naiveMessages))
      throw new BenchFailure(`part 3: the per-member counts sum to ${total}`);

    const dbCpu = dbPids.length === 2;
    const notifyMean = seriesWallMs / opts.events;
    const naiveMean = naiveSeriesWallMs / opts.naiveMessages;
    return {
      members: opts.members,
      membersPerShard: perShard,
      notify: {
        events: opts.events,
        senders: opts.senders,
        wallMsPerEvent: summary(wallMs),
        cpuMsPerEvent: { ...summary(cpuMs), mean: round(seriesCpuMs / opts.events) },
        storeCallsPerEvent: round(storeCalls / opts.events),
        storeWritesPerEvent: round(storeWrites / opts.events),
        sqlStatementsPerEvent: round(statements / opts.events),
        mariadbCpuMsPerEvent: dbCpu ? round(notifyDbCpuMs / opts.events) : null,
        publishes: published.length,
      },
      perMemberCounts: {
        messages: opts.naiveMessages,
        rowsWrittenPerMessage: round(naiveRows / opts.naiveMessages),
        sqlStatementsPerMessage: db.allPools().length,
        wallMsPerMessage: summary(naiveWallMs),
        cpuMsPerMessage: summary(naiveCpuMs),
        mariadbCpuMsPerMessage: dbCpu ? round(naiveDbCpuMs / opts.naiveMessages) : null,
      },
      ratioWall: round(naiveMean / notifyMean),
      ratioMariadbCpu:
        dbCpu && notifyDbCpuMs > 0
          ? round(naiveDbCpuMs / opts.naiveMessages / (notifyDbCpuMs / opts.events))
          : null,
    };
  } finally {
    // allPools() are the plain pools, in the order of the targets.
    const pools = db.allPools();
    await Promise.all(
      db.map
        .targets()
        .map((t, i) =>
          pools[i]?.query(`DROP DATABASE IF EXISTS \`${new URL(t).pathname.slice(1)}\``),
        ),
    ).catch((err: Error) => opts.progress(`  dropping ${name}_0/_1 failed: ${err.message}`));
    await db.close();
  }
}

/** Every member's marker of the room (reads both shards directly). */
async function readMarkers(db: ShardedMysql, members: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(members.map((u) => [u, -1]));
  for (const pool of db.allPools()) {
    const [rows] = await pool.query<RowDataPacket[]>(
      'SELECT user_id, seq FROM read_markers WHERE room_id = ?',
      [ROOM_ID],
    );
    for (const r of rows) out.set(r.user_id as string, Number(r.seq));
  }
  return out;
}
