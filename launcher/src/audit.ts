/**
 * The consistency audit of stored messages (`npm run audit`, docs/operations.md):
 * for a set of rooms, checks that MySQL holds every message exactly once
 * with gap-free seqs in each sender's order, that the Redis recent cache and
 * the Elasticsearch index agree with MySQL, and lists what sits in the
 * dead-letter topics and how far each consumer group is behind. Read-only:
 * it writes no row, key, document or offset (it refreshes the index, which
 * changes no data, and reads dead letters with a group that commits nothing).
 *
 * @example
 * const report = await audit({ connections, scope: { since: Date.now() - 600_000 } });
 * if (!report.ok) for (const f of report.failures) console.log(f.check, f.roomId, f.message);
 */
import { Client } from '@elastic/elasticsearch';
import { deadLetterTopic, TOPICS, TRIGGER_SOURCES } from '@parley/eventing';
import { createKafka } from '@parley/eventing/kafka/kafka';
import { RECENT_MAX } from '@parley/message-store/recent-cache';
import type { Message } from '@parley/protocol';
import { createLogger, createRedis, type Logger, ShardedMysql } from '@parley/runtime';
import {
  type CacheEntry,
  type CacheSummary,
  cachedRoomIds,
  compareRecentCache,
  RECENT_PREFIX,
  readRecentCache,
} from './audit-cache';
import {
  CHECKS,
  type CheckName,
  type Finding,
  Findings,
  type SkippableCheck,
  withoutPasswords,
} from './audit-findings';
import {
  consumerLag,
  type DeadLetter,
  type GroupTopics,
  isUnknownTopic,
  judgeDeadLetters,
  judgeLag,
  type PartitionLag,
  readDeadLetters,
  settledLag,
} from './audit-kafka';
import { discoverRooms, readLater, readRoom } from './audit-mysql';
import {
  checkExactlyOnce,
  checkSenderOrder,
  checkSeqs,
  checkUniqueIds,
  type ExpectedOrder,
  type StoredRoom,
} from './audit-rows';
import {
  compareSearchIndex,
  type IndexedDoc,
  indexedRoomIds,
  readIndexedDocs,
} from './audit-search';

export type { CheckName, Finding, SkippableCheck } from './audit-findings';
export type { DeadLetter, PartitionLag } from './audit-kafka';
export type { ExpectedOrder } from './audit-rows';

/** Where the stack's data lives: the same settings its functions read. */
export interface AuditConnections {
  /** MESSAGE_DB_SHARDS. */
  messageDbShards: string;
  /** REDIS_URL. */
  redisUrl: string;
  /** ES_URL. */
  esUrl: string;
  /** SEARCH_INDEX_ALIAS. */
  searchIndexAlias: string;
  /** KAFKA_BROKERS. */
  kafkaBrokers: string;
}

export type AuditScope =
  | { rooms: readonly string[] }
  /** Every room with a message stored at or after this time (ms). */
  | { since: number }
  | { all: true };

export interface AuditOptions {
  connections: AuditConnections;
  scope: AuditScope;
  /** Acknowledged sends per room and sender, in send order; their rooms are audited too. */
  expect?: ExpectedOrder;
  /** CloudEvent ids that should be in a dead-letter topic (a poison event): required there, not failures. */
  expectDead?: readonly string[];
  /** Holes in the recent cache fail instead of warn (no Redis fault was injected). */
  strictCache?: boolean;
  /** Wait up to this long for every consumer group to reach lag 0 before auditing (default 0). */
  settleMs?: number;
  skip?: readonly SkippableCheck[];
  /** Refresh the index before reading it (default true); otherwise the last ~1 s may be missing. */
  refresh?: boolean;
  /** Newest dead letters read per partition (default 1000). */
  deadLetterLimit?: number;
  /** The recent cache's key prefix (default `parley:recent:`, RedisRecentCache's). */
  recentPrefix?: string;
  /** Defaults: the consumer group and topics of every CloudEvent function of the deployment table, and every catalog topic's `.dlq`. */
  kafka?: {
    groups?: readonly GroupTopics[];
    deadLetterTopics?: readonly string[];
    /** How long to wait for the end of the dead-letter topics (default 20 s). */
    readTimeoutMs?: number;
  };
  log?: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RoomAudit {
  roomId: string;
  messages: number;
  /** Newest stored seq (0: none). */
  lastSeq: number;
  /** room_seq.last_seq (null: no row). */
  counter: number | null;
  cache?: CacheSummary;
  /** Documents in the index for the room. */
  indexed?: number;
}

export interface CheckResult {
  status: 'pass' | 'fail' | 'skipped';
  failures: number;
  warnings: number;
}

export interface AuditReport {
  ok: boolean;
  startedAt: string;
  finishedAt: string;
  scope: { mode: 'rooms' | 'since' | 'all'; since?: string; rooms: number };
  /** What was audited, passwords masked. */
  targets: {
    mysql: string[];
    redis?: string;
    recentPrefix?: string;
    elasticsearch?: string;
    alias?: string;
    kafka?: string;
  };
  checks: Record<CheckName, CheckResult>;
  rooms: RoomAudit[];
  failures: Finding[];
  warnings: Finding[];
  notes: string[];
  deadLetters: DeadLetter[];
  lag: PartitionLag[];
}

/** Rooms audited together: one pipeline to Redis, one index scan per batch. */
const BATCH = 50;

export const defaultGroups = (): GroupTopics[] =>
  TRIGGER_SOURCES.map((s) => ({ group: s.consumerGroup, topics: [s.topic] }));

export const defaultDeadLetterTopics = (): string[] => Object.values(TOPICS).map(deadLetterTopic);

const describeError = (err: unknown): string =>
  withoutPasswords(err instanceof Error ? err.message : String(err));

/** Runs the audit; never throws for what it finds (a service it cannot reach is a failure too). */
export async function audit(opts: AuditOptions): Promise<AuditReport> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = opts.log ?? createLogger('audit', 'silent');
  const startedAt = new Date(now()).toISOString();
  const skip = new Set<CheckName>(opts.skip ?? []);
  const runs = (c: SkippableCheck) => !skip.has(c);
  const out = new Findings();
  const notes: string[] = [];
  const c = opts.connections;
  const prefix = opts.recentPrefix ?? RECENT_PREFIX;
  const settleMs = opts.settleMs ?? 0;
  const strict = opts.strictCache === true;
  const groups = opts.kafka?.groups ?? defaultGroups();
  /** A service that failed once is not asked again: one failure each, not one per room or retry. */
  const broken = new Set<'redis' | 'es' | 'kafka'>();
  const unreachable = (check: CheckName, what: string, err: unknown) => {
    log.warn({ err: describeError(err) }, `audit: ${what} failed`);
    out.fail({ check, problem: 'unreachable', message: `${what}: ${describeError(err)}` });
  };

  const db = ShardedMysql.fromSpec(c.messageDbShards, { connectionLimit: 4 });
  const redis = runs('recent-cache') ? createRedis(c.redisUrl, 'audit') : undefined;
  // ioredis reports every failed reconnect as an event; the failed commands say it once.
  redis?.on('error', (err) => log.debug({ err: describeError(err) }, 'audit: redis error'));
  const es = runs('search-index')
    ? new Client({ node: c.esUrl, requestTimeout: 30_000, maxRetries: 1 })
    : undefined;
  const kafka =
    runs('dead-letters') || runs('consumer-lag')
      ? createKafka({ brokers: c.kafkaBrokers, clientId: 'parley-audit', log })
      : undefined;

  const rooms: RoomAudit[] = [];
  let deadLetters: DeadLetter[] = [];
  let lag: PartitionLag[] = [];
  let lagRead = false;
  try {
    // 1. Let the consumers catch up first: the index and the cache are written after Kafka.
    if (kafka && runs('consumer-lag')) {
      try {
        lag = await settledLag(() => consumerLag(kafka, groups), settleMs, { now, sleep });
        lagRead = true;
      } catch (err) {
        if (!isUnknownTopic(err)) broken.add('kafka');
        unreachable('consumer-lag', 'Kafka (consumer offsets)', err);
      }
    }

    // Make what is indexed so far searchable (room discovery and the scan below search it).
    if (es && opts.refresh !== false) {
      try {
        await es.indices.refresh({ index: c.searchIndexAlias });
      } catch (err) {
        broken.add('es');
        unreachable('search-index', `Elasticsearch (refresh ${c.searchIndexAlias})`, err);
      }
    }

    // 2. Which rooms.
    const scope = opts.scope;
    const expectedRooms = Object.keys(opts.expect ?? {});
    const chosen = new Set<string>(expectedRooms);
    let since: number | undefined;
    try {
      if ('rooms' in scope) for (const r of scope.rooms) chosen.add(r);
      else {
        since = 'since' in scope ? scope.since : undefined;
        const found = await discoverRooms(db, since);
        for (const r of found.rooms) chosen.add(r);
        for (const s of found.stray) {
          out.warn({
            check: 'audit',
            problem: 'stray-rows',
            roomId: s.roomId,
            message: `rows of room ${s.roomId} on ${withoutPasswords(s.database)}, which does not own its shard (left by a shard move?)`,
          });
        }
        // Rooms the derived stores know and MySQL may not: their entries are the wrong ones.
        if (es && !broken.has('es')) {
          try {
            for (const r of await indexedRoomIds(es, c.searchIndexAlias, since)) chosen.add(r);
          } catch (err) {
            broken.add('es');
            unreachable('search-index', `Elasticsearch (rooms of ${c.searchIndexAlias})`, err);
          }
        }
        if (redis && since === undefined) {
          try {
            for (const r of await cachedRoomIds(redis, prefix)) chosen.add(r);
          } catch (err) {
            broken.add('redis');
            unreachable('recent-cache', 'Redis (cache keys)', err);
          }
        } else if (redis) {
          notes.push(
            '--since: rooms that only the recent cache knows are not looked for (--all does)',
          );
        }
      }
    } catch (err) {
      unreachable('audit', 'MySQL (finding rooms)', err);
    }
    const roomIds = [...chosen].sort();

    // 3. Each room: MySQL snapshot, then the cache and the index, compared.
    const seenIds = new Map<string, string>();
    for (let i = 0; i < roomIds.length; i += BATCH) {
      const batch = roomIds.slice(i, i + BATCH);
      let stored: StoredRoom[];
      try {
        stored = await Promise.all(batch.map((id) => readRoom(db, id)));
      } catch (err) {
        unreachable('audit', 'MySQL (reading rooms)', err);
        break;
      }
      let cache: Map<string, CacheEntry[]> | undefined;
      if (redis && !broken.has('redis')) {
        try {
          cache = await readRecentCache(redis, prefix, batch);
        } catch (err) {
          broken.add('redis');
          unreachable('recent-cache', 'Redis (recent cache)', err);
        }
      }
      let docs: Map<string, IndexedDoc[]> | undefined;
      if (es && !broken.has('es')) {
        try {
          docs = await readIndexedDocs(es, c.searchIndexAlias, batch);
        } catch (err) {
          broken.add('es');
          unreachable('search-index', `Elasticsearch (index ${c.searchIndexAlias})`, err);
        }
      }
      checkUniqueIds(stored, seenIds, out);
      for (const room of stored) {
        const entries = cache?.get(room.roomId);
        const roomDocs = docs?.get(room.roomId);
        const newest = newestSeq(room);
        // Entries and documents newer than the snapshot are checked against a fresh read.
        const known = new Set(room.messages.map((m) => m.id));
        let later: Message[] = [];
        if (
          (entries ?? []).some((e) => e.score > newest) ||
          (roomDocs ?? []).some((d) => !known.has(d.id))
        ) {
          try {
            later = await readLater(db, room.roomId, newest);
          } catch (err) {
            unreachable('audit', 'MySQL (reading newer messages)', err);
          }
        }
        rooms.push(
          auditRoom({ room, entries, docs: roomDocs, later, expect: opts.expect, strict }, out),
        );
      }
    }

    // 4. Dead letters, and the lag as it is now.
    if (kafka && runs('dead-letters') && !broken.has('kafka')) {
      try {
        const read = await readDeadLetters(
          kafka,
          opts.kafka?.deadLetterTopics ?? defaultDeadLetterTopics(),
          {
            limit: opts.deadLetterLimit ?? 1_000,
            timeoutMs: opts.kafka?.readTimeoutMs ?? 20_000,
          },
        );
        deadLetters = judgeDeadLetters(
          read,
          {
            ...(since !== undefined ? { sinceMs: since } : {}),
            ...('rooms' in scope ? { rooms: new Set(roomIds) } : {}),
          },
          opts.expectDead ?? [],
          out,
        );
      } catch (err) {
        broken.add('kafka');
        unreachable('dead-letters', 'Kafka (dead-letter topics)', err);
      }
    } else if (kafka && runs('dead-letters')) {
      // Kafka already failed (the lag above): say so here too, so this check is not a pass.
      out.fail({
        check: 'dead-letters',
        problem: 'unreachable',
        message: 'Kafka could not be read: dead letters not listed',
      });
    }
    if (kafka && runs('consumer-lag') && !broken.has('kafka')) {
      // Without a settle wait, the lag as it is now, after the audit, is the one that counts.
      if (settleMs <= 0 && lagRead) {
        try {
          lag = await consumerLag(kafka, groups);
        } catch (err) {
          unreachable('consumer-lag', 'Kafka (consumer offsets)', err);
        }
      }
      judgeLag(lag, settleMs, out);
    }

    if (!opts.expect) {
      notes.push(
        'sender order without --expect: acceptedTs is not stored, so only ts (message-write’s clock) is compared along seq, as warnings',
      );
    }
    return {
      ok: out.failures.length === 0,
      startedAt,
      finishedAt: new Date(now()).toISOString(),
      scope: {
        mode: 'rooms' in scope ? 'rooms' : 'since' in scope ? 'since' : 'all',
        ...(since !== undefined ? { since: new Date(since).toISOString() } : {}),
        rooms: roomIds.length,
      },
      targets: {
        mysql: db.map.targets().map(withoutPasswords),
        ...(redis ? { redis: withoutPasswords(c.redisUrl), recentPrefix: prefix } : {}),
        ...(es ? { elasticsearch: withoutPasswords(c.esUrl), alias: c.searchIndexAlias } : {}),
        ...(kafka ? { kafka: c.kafkaBrokers } : {}),
      },
      checks: checkResults(out, skip),
      rooms,
      failures: out.failures,
      warnings: out.warnings,
      notes,
      deadLetters,
      lag,
    };
  } finally {
    await Promise.allSettled([db.close(), es?.close()]);
    redis?.disconnect();
  }
}

const newestSeq = (room: StoredRoom): number =>
  room.messages.length ? (room.messages[room.messages.length - 1] as Message).seq : 0;

interface RoomInput {
  room: StoredRoom;
  /** The room's cache entries; undefined when the cache was not read. */
  entries: CacheEntry[] | undefined;
  /** The room's documents; undefined when the index was not read. */
  docs: IndexedDoc[] | undefined;
  /** Messages stored after the snapshot. */
  later: Message[];
  expect: ExpectedOrder | undefined;
  strict: boolean;
}

/** Every check of one room, its findings into `out`. */
function auditRoom(r: RoomInput, out: Findings): RoomAudit {
  const { room } = r;
  checkExactlyOnce(room, out);
  checkSeqs(room, out);
  checkSenderOrder(room, r.expect?.[room.roomId], out);
  const summary: RoomAudit = {
    roomId: room.roomId,
    messages: room.messages.length,
    lastSeq: newestSeq(room),
    counter: room.counter ?? null,
  };
  if (r.entries) {
    summary.cache = compareRecentCache(
      {
        roomId: room.roomId,
        stored: room.messages,
        later: new Map(r.later.map((m) => [m.seq, m])),
        entries: r.entries,
        max: RECENT_MAX,
        strict: r.strict,
      },
      out,
    );
  }
  if (r.docs) {
    summary.indexed = compareSearchIndex(
      {
        roomId: room.roomId,
        stored: room.messages,
        later: new Map(r.later.map((m) => [m.id, m])),
        docs: r.docs,
      },
      out,
    ).docs;
  }
  return summary;
}

function checkResults(out: Findings, skip: ReadonlySet<CheckName>): Record<CheckName, CheckResult> {
  const results = {} as Record<CheckName, CheckResult>;
  for (const check of CHECKS) {
    const failures = out.failures.filter((f) => f.check === check).length;
    const warnings = out.warnings.filter((f) => f.check === check).length;
    results[check] = {
      status: skip.has(check) ? 'skipped' : failures ? 'fail' : 'pass',
      failures,
      warnings,
    };
  }
  return results;
}
