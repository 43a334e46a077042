/**
 * The audit against the real MariaDB (two shards), Redis, Elasticsearch and
 * Kafka of tests/infra/up, on fresh per-run databases, cache prefix, index
 * alias and topics. Rooms are written the way the stack writes them —
 * message-write's handler on the real store and cache, its fact handed to
 * message-index's handler on the real index — and then broken directly, one
 * inconsistency per room: the audit must flag exactly that one.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { type AnyParleyEvent, createEvent, MemoryFanout, toKafkaRecord } from '@parley/eventing';
import {
  createKafka,
  createRecordConsumer,
  createRecordProducer,
  deleteTopics,
  ensureTopics,
  type KafkaClient,
} from '@parley/eventing/kafka/kafka';
import { deadLetterRecord } from '@parley/eventing/kafka/kafka-source';
import { createMessageIndex } from '@parley/fn-message-index/handler';
import { createMessageWrite } from '@parley/fn-message-write/handler';
import { messageMigrations } from '@parley/message-store/migrations';
import { MysqlMessageStore } from '@parley/message-store/mysql';
import { RedisRecentCache } from '@parley/message-store/recent-cache/redis';
import type { Message } from '@parley/protocol';
import {
  createLogger,
  createRedis,
  migrate,
  newId,
  type Redis,
  ShardedMysql,
} from '@parley/runtime';
import { EsSearchIndex } from '@parley/search-index/es';
import { freshShardSpec, infraEnv, REPO_ROOT, runId } from '@parley/tests/support/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditOptions, type AuditReport, audit } from './audit';

const log = createLogger('audit-real-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const exec = promisify(execFile);

/** Fresh databases, cache prefix, index alias and topics, and the write path over them. */
async function fixture() {
  const infra = infraEnv();
  const run = runId();
  const spec = freshShardSpec('audit');
  await migrate(spec, await messageMigrations());
  const db = ShardedMysql.fromSpec(spec);
  const store = new MysqlMessageStore(db);
  const redis: Redis = createRedis(infra.REDIS_URL, 'audit-test');
  const prefix = `t:${run}:recent:`;
  const recent = new RedisRecentCache(redis, prefix);
  const alias = `t-audit-${run}`;
  // Two shards, so routing matters; no refresh of its own, so only the audit's makes writes visible.
  const index = new EsSearchIndex({
    url: infra.ES_URL,
    alias,
    layout: { shards: 2, refreshInterval: '1h' },
  });
  await index.ensureIndex();
  const es = new Client({ node: infra.ES_URL });
  const kafka: KafkaClient = createKafka({
    brokers: infra.KAFKA_BROKERS,
    clientId: 'audit-test',
    log,
  });
  const topic = `t.${run}.audit`;
  const dlq = `${topic}.dlq`;
  const group = `t-${run}-audit`;
  await ensureTopics(kafka, [topic], 2);
  const producer = createRecordProducer(kafka);

  const indexer = createMessageIndex({ index, log });
  const writer = createMessageWrite({
    store,
    recent,
    isMember: async () => true,
    fanout: new MemoryFanout(),
    sink: { emit: (event) => indexer.handle(event as AnyParleyEvent, { log }) },
    log,
  });
  /** One send through message-write (and its fact through message-index); returns the stored message. */
  const send = async (
    roomId: string,
    actorId: string,
    clientMsgId: string,
    body = `hello ${clientMsgId}`,
  ) => {
    await writer.handle(
      createEvent(
        'parley.message.send',
        { actorId, roomId, clientMsgId, body, acceptedTs: Date.now() },
        { source: 'gateway' },
      ) as AnyParleyEvent,
      { log },
    );
    return (await store.find(roomId, actorId, clientMsgId)) as Message;
  };
  /** A room of three messages: alice c1, bob c2, alice c3. */
  const chat = async () => {
    const roomId = newId('r');
    const messages = [
      await send(roomId, 'u_alice', 'c1'),
      await send(roomId, 'u_bob', 'c2'),
      await send(roomId, 'u_alice', 'c3'),
    ];
    return { roomId, messages };
  };
  /** Stores a row behind the store's back (and bumps the counter to its seq), like a bug would. */
  const insertRow = async (m: Message) => {
    const pool = db.poolFor(m.roomId);
    await pool.query(
      'INSERT INTO messages (room_id, seq, id, sender_id, client_msg_id, body, ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [m.roomId, m.seq, m.id, m.senderId, m.clientMsgId, m.body, m.ts],
    );
    await pool.query('UPDATE room_seq SET last_seq = ? WHERE room_id = ?', [m.seq, m.roomId]);
  };
  const connections = {
    messageDbShards: spec,
    redisUrl: infra.REDIS_URL,
    esUrl: infra.ES_URL,
    searchIndexAlias: alias,
    kafkaBrokers: infra.KAFKA_BROKERS,
  };
  const auditOf = (
    scope: AuditOptions['scope'],
    more: Partial<AuditOptions> = {},
  ): Promise<AuditReport> =>
    audit({
      connections,
      scope,
      recentPrefix: prefix,
      kafka: { groups: [{ group, topics: [topic] }], deadLetterTopics: [dlq] },
      log,
      ...more,
    });
  const close = async () => {
    await producer.close();
    await deleteTopics(kafka, [topic, dlq]).catch(() => undefined);
    await index.drop();
    await index.close();
    await es.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.close();
  };
  return {
    spec,
    db,
    store,
    redis,
    prefix,
    recent,
    index,
    es,
    alias,
    kafka,
    topic,
    dlq,
    group,
    producer,
    send,
    chat,
    insertRow,
    connections,
    auditOf,
    close,
  };
}

/** What a report flagged, compactly: check, problem, room, ids, seqs. */
const flagged = (r: AuditReport) =>
  r.failures.map((f) => ({
    check: f.check,
    problem: f.problem,
    roomId: f.roomId,
    ids: f.ids,
    seqs: f.seqs,
  }));

describe('audit on the real services', () => {
  let f: Awaited<ReturnType<typeof fixture>>;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(() => f?.close());

  it('a room written by message-write and message-index passes every check', async () => {
    const roomId = newId('r');
    for (const [sender, c] of [
      ['u_alice', 'a1'],
      ['u_bob', 'b1'],
      ['u_alice', 'a2'],
      ['u_bob', 'b2'],
      ['u_alice', 'a3'],
    ] as const) {
      await f.send(roomId, sender, c);
    }
    await f.send(roomId, 'u_alice', 'a2'); // a redelivery: stored once, acknowledged again
    const report = await f.auditOf(
      { rooms: [roomId] },
      {
        expect: { [roomId]: { u_alice: ['a1', 'a2', 'a3'], u_bob: ['b1', 'b2'] } },
        strictCache: true,
      },
    );
    expect(report.failures).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.rooms).toEqual([
      {
        roomId,
        messages: 5,
        lastSeq: 5,
        counter: 5,
        cache: { state: 'tail', entries: 5, fromSeq: 1, toSeq: 5, missing: 0 },
        indexed: 5,
      },
    ]);
    expect(Object.values(report.checks).every((c) => c.status === 'pass')).toBe(true);
    expect(report.lag.every((l) => l.lag === '0')).toBe(true);
  });

  it('a send stored twice is one exactly-once failure naming both rows', async () => {
    const { roomId, messages } = await f.chat();
    // The unique key would refuse the copy: drop it, as a migration bug or a manual restore might.
    await f.db.poolFor(roomId).query('ALTER TABLE messages DROP INDEX uq_messages_client');
    const original = messages[1] as Message;
    const copy: Message = { ...original, id: newId('m'), seq: 4 };
    await f.insertRow(copy);
    await f.recent.add(copy);
    await f.index.apply([copy]);
    const report = await f.auditOf({ rooms: [roomId] });
    expect(flagged(report)).toEqual([
      {
        check: 'exactly-once',
        problem: 'duplicate',
        roomId,
        ids: [original.id, copy.id],
        seqs: [2, 4],
      },
    ]);
    expect(report.ok).toBe(false);
  });

  it('a skipped seq is one seq failure naming the hole', async () => {
    const { roomId } = await f.chat();
    const fifth: Message = {
      id: newId('m'),
      roomId,
      seq: 5,
      senderId: 'u_bob',
      clientMsgId: 'c5',
      body: 'after a hole',
      ts: Date.now(),
    };
    await f.insertRow(fifth);
    await f.recent.add(fifth);
    await f.index.apply([fifth]);
    expect(flagged(await f.auditOf({ rooms: [roomId] }))).toEqual([
      { check: 'seq', problem: 'hole', roomId, ids: undefined, seqs: [4] },
    ]);
  });

  it('per-sender order: an acknowledged send that is missing or stored out of order fails', async () => {
    const { roomId, messages } = await f.chat();
    const report = await f.auditOf(
      { rooms: [roomId] },
      { expect: { [roomId]: { u_alice: ['c3', 'c1', 'c9'], u_bob: ['c2'] } } },
    );
    expect(flagged(report)).toEqual([
      { check: 'sender-order', problem: 'not-stored', roomId, ids: undefined, seqs: undefined },
      {
        check: 'sender-order',
        problem: 'out-of-order',
        roomId,
        ids: [messages[2]?.id, messages[0]?.id],
        seqs: [3, 1],
      },
    ]);
  });

  it('a cache entry that differs from MySQL is stale', async () => {
    const { roomId, messages } = await f.chat();
    await f.recent.add({ ...(messages[1] as Message), body: 'changed behind MySQL' });
    const report = await f.auditOf({ rooms: [roomId] });
    expect(flagged(report)).toEqual([
      { check: 'recent-cache', problem: 'stale', roomId, ids: [messages[1]?.id], seqs: [2] },
    ]);
    expect(JSON.stringify(report)).not.toContain('changed behind MySQL');
  });

  it('a cache entry for a seq MySQL lacks is a phantom', async () => {
    const { roomId } = await f.chat();
    const ghost: Message = {
      id: newId('m'),
      roomId,
      seq: 4,
      senderId: 'u_bob',
      clientMsgId: 'c4',
      body: 'never stored',
      ts: Date.now(),
    };
    await f.recent.add(ghost);
    expect(flagged(await f.auditOf({ rooms: [roomId] }))).toEqual([
      { check: 'recent-cache', problem: 'phantom', roomId, ids: [ghost.id], seqs: [4] },
    ]);
  });

  it('a cache entry missing in the middle warns (a failed add), and fails with strictCache', async () => {
    const { roomId } = await f.chat();
    await f.redis.zremrangebyscore(f.prefix + roomId, 2, 2);
    const loose = await f.auditOf({ rooms: [roomId] });
    expect(loose.ok).toBe(true);
    expect(loose.warnings.map((w) => [w.check, w.problem, w.seqs])).toEqual([
      ['recent-cache', 'hole', [2]],
    ]);
    expect(flagged(await f.auditOf({ rooms: [roomId] }, { strictCache: true }))).toEqual([
      { check: 'recent-cache', problem: 'hole', roomId, ids: undefined, seqs: [2] },
    ]);
  });

  it('an index document MySQL does not have is extra; a stored message without one is missing', async () => {
    const extraRoom = await f.chat();
    const ghost: Message = {
      id: newId('m'),
      roomId: extraRoom.roomId,
      seq: 9,
      senderId: 'u_bob',
      clientMsgId: 'c9',
      body: 'indexed only',
      ts: Date.now(),
    };
    await f.index.apply([ghost]);
    const missingRoom = await f.chat();
    const gone = missingRoom.messages[0] as Message;
    await f.es.delete({ index: f.alias, id: gone.id, routing: gone.roomId });
    const report = await f.auditOf({ rooms: [extraRoom.roomId, missingRoom.roomId] });
    expect(flagged(report)).toEqual(
      expect.arrayContaining([
        {
          check: 'search-index',
          problem: 'extra',
          roomId: extraRoom.roomId,
          ids: [ghost.id],
          seqs: [9],
        },
        {
          check: 'search-index',
          problem: 'missing',
          roomId: missingRoom.roomId,
          ids: [gone.id],
          seqs: [1],
        },
      ]),
    );
    expect(report.failures).toHaveLength(2);
  });

  it('the default cache prefix is the one RedisRecentCache writes', async () => {
    const { roomId } = await f.chat();
    const defaultCache = new RedisRecentCache(f.redis);
    try {
      for (const m of (await f.store.page(roomId, { limit: 10 })).messages)
        await defaultCache.add(m);
      const report = await f.auditOf({ rooms: [roomId] }, { recentPrefix: undefined });
      expect(report.failures).toEqual([]);
      expect(report.rooms[0]?.cache).toMatchObject({ state: 'tail', entries: 3 });
    } finally {
      await f.redis.del(`parley:recent:${roomId}`);
    }
  });

  it('a service it cannot reach fails that check once, and the others still run', async () => {
    const { roomId } = await f.chat();
    const closed = 'http://127.0.0.1:1';
    const report = await audit({
      connections: { ...f.connections, redisUrl: 'redis://127.0.0.1:1', esUrl: closed },
      scope: { rooms: [roomId, newId('r')] },
      skip: ['dead-letters', 'consumer-lag'],
      log,
    });
    expect(report.failures.map((x) => [x.check, x.problem])).toEqual([
      ['search-index', 'unreachable'],
      ['recent-cache', 'unreachable'],
    ]);
    expect(report.checks.seq.status).toBe('pass');
    expect(report.checks['dead-letters'].status).toBe('skipped');
    expect(report.rooms.map((r) => r.messages).sort()).toEqual([0, 3]);
  });

  it('the command exits 0 on a clean room, 1 with the failures as JSON, 2 on bad usage', async () => {
    const clean = await f.chat();
    const broken = await f.chat();
    await f.recent.add({ ...(broken.messages[0] as Message), body: 'x' });
    const env = {
      PATH: process.env.PATH ?? '',
      MESSAGE_DB_SHARDS: f.connections.messageDbShards,
      REDIS_URL: f.connections.redisUrl,
      ES_URL: f.connections.esUrl,
      SEARCH_INDEX_ALIAS: f.connections.searchIndexAlias,
      KAFKA_BROKERS: f.connections.kafkaBrokers,
    };
    const cli = async (args: string[]) => {
      try {
        const { stdout } = await exec(
          join(REPO_ROOT, 'node_modules/.bin/tsx'),
          [join(REPO_ROOT, 'launcher/src/audit.main.ts'), ...args],
          { env, cwd: REPO_ROOT },
        );
        return { code: 0, stdout, stderr: '' };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    // The shared catalog topics and groups are not this test's: leave Kafka out.
    const skip = ['--skip', 'dead-letters,consumer-lag'];
    const ok = await cli(['--rooms', clean.roomId, ...skip]);
    expect(ok.stdout).toContain('OK: every check passed');
    expect(ok.code).toBe(0);
    // The cache check reads the default prefix here: the tampered entry is under this run's.
    await f.redis.rename(f.prefix + broken.roomId, `parley:recent:${broken.roomId}`);
    try {
      const failed = await cli(['--rooms', broken.roomId, '--json', ...skip]);
      expect(failed.code).toBe(1);
      const report = JSON.parse(failed.stdout) as AuditReport;
      expect(flagged(report)).toEqual([
        {
          check: 'recent-cache',
          problem: 'stale',
          roomId: broken.roomId,
          ids: [broken.messages[0]?.id],
          seqs: [1],
        },
      ]);
    } finally {
      await f.redis.del(`parley:recent:${broken.roomId}`);
    }
    const usage = await cli(['--since', 'last tuesday']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--since');
  }, 180_000); // three tsx start-ups

  it('a dead-lettered event is listed with its reason and fails, unless it was expected', async () => {
    const { roomId } = await f.chat();
    const poison = createEvent(
      'parley.message.send',
      { actorId: 'u_alice', roomId, clientMsgId: 'poison', body: 'x', acceptedTs: Date.now() },
      { source: 'gateway' },
    );
    const rec = toKafkaRecord(poison);
    const headers = Object.fromEntries(
      Object.entries(rec.headers).map(([k, v]) => [k, Buffer.from(v)]),
    );
    await f.producer.send(
      f.dlq,
      deadLetterRecord(
        {
          topic: f.topic,
          partition: 0,
          offset: '0',
          key: Buffer.from(rec.key),
          value: Buffer.from(rec.value),
          headers,
        },
        {
          status: 400,
          sinkUrl: 'http://127.0.0.1:1/',
          data: JSON.stringify({ error: { code: 'bad_request', message: 'poison pill' } }),
        },
      ),
    );
    const report = await f.auditOf({ rooms: [roomId] });
    expect(flagged(report)).toEqual([
      {
        check: 'dead-letters',
        problem: 'dead-lettered',
        roomId,
        ids: [poison.id],
        seqs: undefined,
      },
    ]);
    expect(report.deadLetters).toEqual([
      expect.objectContaining({
        topic: f.dlq,
        key: roomId,
        type: 'parley.message.send',
        id: poison.id,
        errorCode: '400',
        reason: 'bad_request: poison pill',
        counted: true,
        expected: false,
      }),
    ]);
    const expected = await f.auditOf({ rooms: [roomId] }, { expectDead: [poison.id] });
    expect(expected.failures).toEqual([]);
    // Another room's audit lists the record but does not count it.
    const other = await f.chat();
    const elsewhere = await f.auditOf({ rooms: [other.roomId] });
    expect(elsewhere.failures).toEqual([]);
    expect(elsewhere.deadLetters.map((d) => d.counted)).toEqual([false]);
  });

  it('a consumer group behind its topic fails until it has caught up', async () => {
    const { roomId } = await f.chat();
    await f.producer.send(f.topic, { key: roomId, value: '{}', headers: {} });
    const behind = await f.auditOf({ rooms: [roomId] });
    expect(flagged(behind)).toEqual([
      {
        check: 'consumer-lag',
        problem: 'behind',
        roomId: undefined,
        ids: undefined,
        seqs: undefined,
      },
    ]);
    expect(behind.lag.filter((l) => l.lag !== '0')).toEqual([
      expect.objectContaining({
        group: f.group,
        topic: f.topic,
        committed: null,
        end: '1',
        lag: '1',
      }),
    ]);
    // The group consumes and commits it; the lag is back to 0.
    let handled!: () => void;
    const done = new Promise<void>((resolve) => {
      handled = resolve;
    });
    const consumer = createRecordConsumer(f.kafka, {
      group: f.group,
      topics: [f.topic],
      commitIntervalMs: 0,
      handle: async () => {
        handled();
        return 'commit';
      },
    });
    await consumer.start();
    await done;
    await consumer.stop();
    const caughtUp = await f.auditOf({ rooms: [roomId] });
    expect(caughtUp.failures).toEqual([]);
  });
});

describe('audit of every room (--all, --since)', () => {
  let f: Awaited<ReturnType<typeof fixture>>;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(() => f?.close());

  it('finds the rooms of MySQL, and rooms only the index or the cache knows', async () => {
    const clean = await f.chat();
    const indexedOnly: Message = {
      id: newId('m'),
      roomId: newId('r'),
      seq: 1,
      senderId: 'u_x',
      clientMsgId: 'c1',
      body: 'no row',
      ts: Date.now(),
    };
    await f.index.apply([indexedOnly]);
    const cachedOnly: Message = { ...indexedOnly, id: newId('m'), roomId: newId('r') };
    await f.recent.add(cachedOnly);

    const all = await f.auditOf({ all: true });
    expect(all.rooms.map((r) => r.roomId).sort()).toEqual(
      [clean.roomId, indexedOnly.roomId, cachedOnly.roomId].sort(),
    );
    expect(flagged(all)).toEqual(
      expect.arrayContaining([
        {
          check: 'search-index',
          problem: 'extra',
          roomId: indexedOnly.roomId,
          ids: [indexedOnly.id],
          seqs: [1],
        },
        {
          check: 'recent-cache',
          problem: 'phantom',
          roomId: cachedOnly.roomId,
          ids: [cachedOnly.id],
          seqs: [1],
        },
      ]),
    );
    expect(all.failures).toHaveLength(2);

    const recent = await f.auditOf({ since: Date.now() - 60_000 });
    expect(recent.rooms.map((r) => r.roomId).sort()).toEqual(
      [clean.roomId, indexedOnly.roomId].sort(),
    );
    const future = await f.auditOf({ since: Date.now() + 60_000 });
    expect(future.rooms).toEqual([]);
    expect(future.ok).toBe(true);
  });
});
