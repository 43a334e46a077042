/**
 * The audit's checks on hand-made data, one inconsistency at a time: each
 * is flagged as exactly one finding naming its room, ids and seqs, and a
 * consistent room yields none. The same checks against the real services:
 * audit.real.test.ts.
 */
import type { Message } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import type { AuditReport } from './audit';
import { compareRecentCache } from './audit-cache';
import { parseAuditCommand, UsageError } from './audit-config';
import { Findings } from './audit-findings';
import { formatReport } from './audit-format';
import {
  type DeadLetterRead,
  judgeDeadLetters,
  judgeLag,
  type PartitionLag,
  settledLag,
} from './audit-kafka';
import {
  checkExactlyOnce,
  checkSenderOrder,
  checkSeqs,
  checkUniqueIds,
  type StoredRoom,
} from './audit-rows';
import { compareSearchIndex, expectedDoc, type IndexedDoc } from './audit-search';

const ROOM = 'r_1';
const msg = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `m_${seq}`,
  roomId: ROOM,
  seq,
  senderId: seq % 2 ? 'u_alice' : 'u_bob',
  body: `body ${seq}`,
  ts: 1_000 + seq,
  clientMsgId: `c${seq}`,
  ...over,
});
/** `counter` null: no room_seq row; default: the number of messages. */
const room = (messages: Message[], counter?: number | null): StoredRoom => ({
  roomId: ROOM,
  messages,
  counter: counter === null ? undefined : (counter ?? messages.length),
});
const five = () => [1, 2, 3, 4, 5].map((s) => msg(s));

/** Runs one check and returns what it found. */
function run(check: (out: Findings) => void): Findings {
  const out = new Findings();
  check(out);
  return out;
}

describe('stored messages (MySQL)', () => {
  it('a consistent room has no findings', () => {
    const r = room(five());
    const out = run((o) => {
      checkExactlyOnce(r, o);
      checkSeqs(r, o);
      checkSenderOrder(r, undefined, o);
    });
    expect(out.failures).toEqual([]);
    expect(out.warnings).toEqual([]);
  });

  it('a clientMsgId stored twice by one sender is one exactly-once failure naming both copies', () => {
    const dup = msg(6, { id: 'm_dup', senderId: 'u_alice', clientMsgId: 'c3' });
    const out = run((o) => checkExactlyOnce(room([...five(), dup]), o));
    expect(out.failures).toEqual([
      expect.objectContaining({
        check: 'exactly-once',
        problem: 'duplicate',
        roomId: ROOM,
        ids: ['m_3', 'm_dup'],
        seqs: [3, 6],
      }),
    ]);
  });

  it('the same clientMsgId from two senders is two messages, not a duplicate', () => {
    const other = msg(6, { senderId: 'u_carol', clientMsgId: 'c1' });
    expect(run((o) => checkExactlyOnce(room([...five(), other]), o)).failures).toEqual([]);
  });

  it('a hole in the seqs is one failure listing the missing seqs', () => {
    const messages = five().filter((m) => m.seq !== 2 && m.seq !== 3);
    const out = run((o) => checkSeqs(room(messages, 5), o));
    expect(out.failures).toEqual([
      expect.objectContaining({ check: 'seq', problem: 'hole', roomId: ROOM, seqs: [2, 3] }),
    ]);
  });

  it('a counter ahead of the newest seq is a hole at the end', () => {
    const out = run((o) => checkSeqs(room(five(), 7), o));
    expect(out.failures).toEqual([
      expect.objectContaining({
        problem: 'hole',
        seqs: [6, 7],
        detail: expect.objectContaining({ counter: 7, newest: 5 }),
      }),
    ]);
  });

  it('a counter behind the newest seq would make the next send collide', () => {
    const out = run((o) => checkSeqs(room(five(), 4), o));
    expect(out.failures.map((f) => f.problem)).toEqual(['counter-behind']);
  });

  it('messages without a counter row are flagged; an empty room without one is fine', () => {
    expect(run((o) => checkSeqs(room(five(), null), o)).failures.map((f) => f.problem)).toEqual([
      'no-counter',
    ]);
    expect(run((o) => checkSeqs(room([], null), o)).failures).toEqual([]);
  });

  it('two messages on one seq are a duplicate seq', () => {
    const out = run((o) => checkSeqs(room([...five(), msg(5, { id: 'm_other' })], 5), o));
    expect(out.failures).toEqual([
      expect.objectContaining({ problem: 'duplicate', seqs: [5], ids: ['m_5', 'm_other'] }),
    ]);
  });

  it('a message id in two rooms is flagged once, in the second room', () => {
    const seen = new Map<string, string>();
    const other: StoredRoom = { roomId: 'r_2', messages: [msg(1, { roomId: 'r_2' })], counter: 1 };
    const out = run((o) => checkUniqueIds([room(five()), other], seen, o));
    expect(out.failures).toEqual([
      expect.objectContaining({ problem: 'duplicate-id', roomId: 'r_2', ids: ['m_1'] }),
    ]);
  });
});

describe('per-sender order', () => {
  const expected = { u_alice: ['c1', 'c3', 'c5'], u_bob: ['c2', 'c4'] };

  it('acknowledged sends stored once in send order pass', () => {
    expect(run((o) => checkSenderOrder(room(five()), expected, o)).failures).toEqual([]);
  });

  it('a send stored before one sent earlier is out of order', () => {
    const out = run((o) => checkSenderOrder(room(five()), { u_alice: ['c1', 'c5', 'c3'] }, o));
    expect(out.failures).toEqual([
      expect.objectContaining({
        check: 'sender-order',
        problem: 'out-of-order',
        seqs: [5, 3],
        ids: ['m_5', 'm_3'],
      }),
    ]);
  });

  it('an acknowledged send that is not stored fails; a stored one never acknowledged warns', () => {
    const out = run((o) => checkSenderOrder(room(five()), { u_alice: ['c1', 'c3', 'c9'] }, o));
    expect(out.failures).toEqual([
      expect.objectContaining({
        problem: 'not-stored',
        detail: { senderId: 'u_alice', clientMsgIds: ['c9'] },
      }),
    ]);
    expect(out.warnings).toEqual([
      expect.objectContaining({ problem: 'unacknowledged', ids: ['m_5'], seqs: [5] }),
    ]);
  });

  it('without expectations, a sender whose ts goes back along seq is a warning, not a failure', () => {
    const messages = five();
    (messages[2] as Message).ts = 1; // seq 3, u_alice, before seq 1's ts
    const out = run((o) => checkSenderOrder(room(messages), undefined, o));
    expect(out.failures).toEqual([]);
    expect(out.warnings).toEqual([
      expect.objectContaining({ problem: 'ts-inversion', seqs: [1, 3] }),
    ]);
  });
});

describe('recent cache against MySQL', () => {
  const entry = (m: Message) => ({ member: JSON.stringify(m), score: m.seq });
  const compare = (
    stored: Message[],
    entries: { member: string; score: number }[],
    strict = false,
    later?: Message[],
  ) => {
    const out = new Findings();
    const summary = compareRecentCache(
      {
        roomId: ROOM,
        stored,
        entries,
        max: 200,
        strict,
        ...(later ? { later: new Map(later.map((m) => [m.seq, m])) } : {}),
      },
      out,
    );
    return { out, summary };
  };

  it('a cache holding the newest seqs exactly agrees (a tail)', () => {
    const { out, summary } = compare(five(), five().slice(2).map(entry));
    expect(out.failures).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(summary).toEqual({ state: 'tail', entries: 3, fromSeq: 3, toSeq: 5, missing: 0 });
  });

  it('no key is a cold cache, not a failure', () => {
    const { out, summary } = compare(five(), []);
    expect(out.failures).toEqual([]);
    expect(summary.state).toBe('cold');
  });

  it('a missing stored seq between the entries and the head warns, and fails when strict', () => {
    const entries = five()
      .filter((m) => m.seq !== 4)
      .map(entry);
    const loose = compare(five(), entries);
    expect(loose.out.failures).toEqual([]);
    expect(loose.out.warnings).toEqual([
      expect.objectContaining({ check: 'recent-cache', problem: 'hole', seqs: [4] }),
    ]);
    expect(loose.summary.state).toBe('holes');
    const strict = compare(five(), entries, true);
    expect(strict.out.failures).toEqual([expect.objectContaining({ problem: 'hole', seqs: [4] })]);
  });

  it('a stale entry fails, naming the field but not the body', () => {
    const entries = five().map((m) => entry(m.seq === 2 ? { ...m, body: 'secret tampered' } : m));
    const { out } = compare(five(), entries);
    expect(out.failures).toEqual([
      expect.objectContaining({ problem: 'stale', seqs: [2], ids: ['m_2'] }),
    ]);
    expect(JSON.stringify(out.failures)).not.toContain('secret');
    expect(out.failures[0]?.message).toContain('body');
  });

  it('an entry for a seq MySQL does not have is a phantom', () => {
    const { out } = compare(five(), [...five().map(entry), entry(msg(6))]);
    expect(out.failures).toEqual([expect.objectContaining({ problem: 'phantom', seqs: [6] })]);
  });

  it('an entry stored after the snapshot is checked against the later read, not flagged', () => {
    const { out } = compare(five(), [...five().map(entry), entry(msg(6))], false, [msg(6)]);
    expect(out.failures).toEqual([]);
  });

  it('unreadable, mis-scored, doubled and foreign entries each fail', () => {
    const entries = [
      ...five().map(entry),
      { member: 'not json', score: 1 },
      { member: JSON.stringify(msg(2)), score: 3 },
      { member: JSON.stringify(msg(4, { roomId: 'r_other' })), score: 4 },
    ];
    const { out } = compare(five(), entries);
    expect(out.failures.map((f) => f.problem).sort()).toEqual([
      'duplicate-seq',
      'score-mismatch',
      'unreadable',
      'wrong-room',
    ]);
  });

  it('more entries than the trim allows fail', () => {
    const many = Array.from({ length: 3 }, (_, i) => msg(i + 1));
    const out = new Findings();
    compareRecentCache(
      { roomId: ROOM, stored: many, entries: many.map(entry), max: 2, strict: false },
      out,
    );
    expect(out.failures.map((f) => f.problem)).toEqual(['over-capacity']);
  });
});

describe('search index against MySQL', () => {
  const doc = (m: Message, over: Partial<IndexedDoc> = {}): IndexedDoc => ({
    id: m.id,
    index: 'parley-messages-v1',
    routing: m.roomId,
    version: m.editedTs ?? m.ts,
    source: expectedDoc(m),
    ...over,
  });
  const compare = (stored: Message[], docs: IndexedDoc[]) => {
    const out = new Findings();
    compareSearchIndex({ roomId: ROOM, stored, docs }, out);
    return out;
  };

  it('exactly the stored messages agree, tombstones included', () => {
    const stored = [...five(), msg(6, { deleted: true, editedTs: 2_000 })];
    const out = compare(
      stored,
      stored.map((m) => doc(m)),
    );
    expect(out.failures).toEqual([]);
  });

  it('a stored message without its document is missing', () => {
    const out = compare(
      five(),
      five()
        .filter((m) => m.seq !== 3)
        .map((m) => doc(m)),
    );
    expect(out.failures).toEqual([
      expect.objectContaining({
        check: 'search-index',
        problem: 'missing',
        ids: ['m_3'],
        seqs: [3],
      }),
    ]);
  });

  it('a document MySQL does not have is extra', () => {
    const out = compare(five(), [...five().map((m) => doc(m)), doc(msg(9, { id: 'm_ghost' }))]);
    expect(out.failures).toEqual([
      expect.objectContaining({ problem: 'extra', ids: ['m_ghost'], seqs: [9] }),
    ]);
  });

  it('a document that differs, is misrouted, has the wrong version or sits in two indices fails', () => {
    const [m1, m2, m3, m4] = five() as [Message, Message, Message, Message, Message];
    const out = compare(five(), [
      doc(m1, { source: { ...expectedDoc(m1), body: 'other' } }),
      doc(m2, { routing: undefined }),
      doc(m3, { version: 1 }),
      doc(m4),
      doc(m4, { index: 'parley-messages-v2' }),
      doc(msg(5)),
    ]);
    expect(out.failures.map((f) => [f.problem, f.ids]).sort()).toEqual([
      ['duplicate', ['m_4']],
      ['misrouted', ['m_2']],
      ['stale', ['m_1']],
      ['version', ['m_3']],
    ]);
  });
});

describe('dead letters and consumer lag', () => {
  const record = (over: Partial<DeadLetterRead['records'][number]> = {}) => ({
    topic: 'parley.message.commands.dlq',
    partition: 2,
    offset: '7',
    key: ROOM,
    type: 'parley.message.send',
    id: 'ev-1',
    time: '2026-01-01T00:00:10.000Z',
    errorCode: '400',
    reason: 'bad_request: body too long',
    ...over,
  });
  const read = (records: DeadLetterRead['records']): DeadLetterRead => ({
    records,
    missingTopics: [],
    unread: [],
  });

  it('a record in scope fails with its topic, offset, type, id and reason', () => {
    const out = new Findings();
    const judged = judgeDeadLetters(read([record()]), { rooms: new Set([ROOM]) }, [], out);
    expect(judged[0]).toMatchObject({ counted: true, expected: false });
    expect(out.failures).toEqual([
      expect.objectContaining({
        check: 'dead-letters',
        problem: 'dead-lettered',
        roomId: ROOM,
        ids: ['ev-1'],
      }),
    ]);
    expect(out.failures[0]?.message).toContain('parley.message.commands.dlq partition 2 offset 7');
    expect(out.failures[0]?.message).toContain('body too long');
  });

  it('records of other rooms or older than --since are listed but do not count', () => {
    const out = new Findings();
    const judged = judgeDeadLetters(
      read([record({ key: 'r_other' }), record({ id: 'ev-old', time: '2025-01-01T00:00:00Z' })]),
      { rooms: new Set([ROOM, 'r_other']) },
      [],
      out,
    );
    expect(judged.filter((d) => d.counted)).toHaveLength(2);
    const scoped = new Findings();
    const byRoom = judgeDeadLetters(
      read([record({ key: 'r_other' })]),
      { rooms: new Set([ROOM]) },
      [],
      scoped,
    );
    expect(byRoom[0]?.counted).toBe(false);
    const bySince = judgeDeadLetters(
      read([record({ time: '2025-01-01T00:00:00Z' })]),
      { sinceMs: Date.parse('2026-01-01T00:00:00Z') },
      [],
      scoped,
    );
    expect(bySince[0]?.counted).toBe(false);
    expect(scoped.failures).toEqual([]);
  });

  it('an expected dead letter passes; an expected one that is absent fails', () => {
    const out = new Findings();
    judgeDeadLetters(read([record()]), {}, ['ev-1', 'ev-gone'], out);
    expect(out.failures).toEqual([
      expect.objectContaining({ problem: 'expected-missing', ids: ['ev-gone'] }),
    ]);
  });

  const lag = (partition: number, committed: string | null, end: string): PartitionLag => ({
    group: 'parley-message-index',
    topic: 'parley.message.events',
    partition,
    committed,
    end,
    lag: String(BigInt(end) - BigInt(committed ?? '0')),
  });

  it('a partition behind is one failure per group and topic; all at 0 passes', () => {
    const out = new Findings();
    judgeLag([lag(0, '5', '5'), lag(1, '3', '4'), lag(2, null, '2')], 0, out);
    expect(out.failures).toEqual([
      expect.objectContaining({ check: 'consumer-lag', problem: 'behind' }),
    ]);
    expect(out.failures[0]?.message).toContain('partition 1 1 behind');
    expect(out.failures[0]?.message).toContain('partition 2 2 behind (nothing committed)');
    const clean = new Findings();
    judgeLag([lag(0, '5', '5')], 0, clean);
    expect(clean.failures).toEqual([]);
  });

  it('settling reads the lag until it is 0 and says which partitions moved', async () => {
    let t = 0;
    const readings = [
      [lag(0, '3', '5'), lag(1, '1', '2')],
      [lag(0, '5', '5'), lag(1, '1', '2')],
    ];
    let n = 0;
    const last = await settledLag(async () => readings[Math.min(n++, 1)] as PartitionLag[], 5_000, {
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    });
    expect(last.map((l) => [l.partition, l.lag, l.moved])).toEqual([
      [0, '0', true],
      [1, '1', false],
    ]);
    expect(t).toBe(5_000);
    const out = new Findings();
    judgeLag(last, 5_000, out);
    expect(out.failures[0]?.message).toContain('stuck at 1');
  });
});

describe('the command line', () => {
  const local = () => ({
    MYSQL_A_URL: 'mysql://u:pw@127.0.0.1:3307',
    MYSQL_B_URL: 'mysql://u:pw@127.0.0.1:3308',
    REDIS_URL: 'redis://127.0.0.1:6380',
    KAFKA_BROKERS: '127.0.0.1:9092',
    ES_URL: 'http://127.0.0.1:9200',
  });
  const env = {
    MESSAGE_DB_SHARDS: 'mysql://u:pw@db:3306/parley_messages',
    REDIS_URL: 'redis://redis:6379',
    ES_URL: 'http://es:9200',
    KAFKA_BROKERS: 'kafka:9092',
  };
  const parse = (
    argv: string[],
    e: Record<string, string | undefined> = env,
    files: Record<string, string> = {},
  ) =>
    parseAuditCommand(argv, {
      env: e,
      now: Date.parse('2026-01-01T12:00:00Z'),
      localInfra: local,
      readFile: (p) => {
        const f = files[p];
        if (f === undefined) throw new Error(`ENOENT: ${p}`);
        return f;
      },
    });
  const usage = (
    argv: string[],
    e?: Record<string, string | undefined>,
    files?: Record<string, string>,
  ) => {
    try {
      parse(argv, e, files);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error('expected a usage error');
  };

  it('reads a scope, a duration or an ISO time, and the environment', () => {
    const since = parse(['--since', '10m', '--json']);
    expect(since.options.scope).toEqual({ since: Date.parse('2026-01-01T11:50:00Z') });
    expect(since.json).toBe(true);
    expect(since.options.connections).toEqual({
      messageDbShards: env.MESSAGE_DB_SHARDS,
      redisUrl: env.REDIS_URL,
      esUrl: env.ES_URL,
      searchIndexAlias: 'parley-messages',
      kafkaBrokers: env.KAFKA_BROKERS,
    });
    expect(parse(['--since', '2026-01-01T00:00:00Z']).options.scope).toEqual({
      since: Date.parse('2026-01-01T00:00:00Z'),
    });
    expect(parse(['--rooms', 'r_1, r_2', '--settle', '30s']).options).toMatchObject({
      scope: { rooms: ['r_1', 'r_2'] },
      settleMs: 30_000,
    });
    expect(parse(['--all']).options.scope).toEqual({ all: true });
  });

  it('refuses a missing or doubled scope, bad values and unknown options', () => {
    expect(usage([])).toContain('say which rooms');
    expect(usage(['--all', '--rooms', 'r_1'])).toContain('not several');
    expect(usage(['--since', 'yesterday'])).toContain('--since');
    expect(usage(['--settle', '5 minutes', '--all'])).toContain('--settle');
    expect(usage(['--skip', 'everything', '--all'])).toContain('--skip');
    expect(usage(['--rooms', 'bad id!'])).toContain('--rooms');
    expect(usage(['--verbose'])).toContain("'--verbose'");
  });

  it('reads the expectation file and audits the rooms it names', () => {
    const file = JSON.stringify({ r_1: { u_a: ['c1', 'c2'] } });
    const parsed = parse(['--expect', 'e.json'], env, { 'e.json': file });
    expect(parsed.options.expect).toEqual({ r_1: { u_a: ['c1', 'c2'] } });
    expect(parsed.options.scope).toEqual({ rooms: [] });
    expect(usage(['--expect', 'nope.json'])).toContain('ENOENT');
    expect(
      usage(['--expect', 'e.json'], env, { 'e.json': '{"r_1": {"u_a": ["c1", "c1"]}}' }),
    ).toContain('listed twice');
    expect(usage(['--expect', 'e.json'], env, { 'e.json': '[1]' })).toContain('is invalid');
  });

  it('names the missing variable; a skipped check needs none of its own', () => {
    const { ES_URL: _es, ...noEs } = env;
    expect(usage(['--all'], noEs)).toMatch(/ES_URL: required/);
    expect(parse(['--all', '--skip', 'search-index'], noEs).options.skip).toEqual(['search-index']);
    expect(usage(['--all'], { ...env, MESSAGE_DB_SHARDS: '0-10=mysql://x/y' })).toContain(
      'MESSAGE_DB_SHARDS',
    );
  });

  it('without MESSAGE_DB_SHARDS, audits the local real stack and nothing else from the environment', () => {
    const parsed = parse(['--all', '--db-prefix', 'parley_it'], { REDIS_URL: 'redis://prod:6379' });
    expect(parsed.options.connections).toEqual({
      messageDbShards:
        '0-31=mysql://u:pw@127.0.0.1:3307/parley_it_messages_0;32-63=mysql://u:pw@127.0.0.1:3308/parley_it_messages_1',
      redisUrl: 'redis://127.0.0.1:6380',
      esUrl: 'http://127.0.0.1:9200',
      searchIndexAlias: 'parley_it-messages',
      kafkaBrokers: '127.0.0.1:9092',
    });
    expect(usage(['--all', '--db-prefix', 'x'])).toContain('--db-prefix');
  });
});

describe('the human report', () => {
  it('lists each check, then each failure with its room and problem', () => {
    const report: AuditReport = {
      ok: false,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      scope: { mode: 'rooms', rooms: 1 },
      targets: { mysql: ['mysql://***@db:3306/x'] },
      checks: {
        'exactly-once': { status: 'pass', failures: 0, warnings: 0 },
        seq: { status: 'fail', failures: 1, warnings: 0 },
        'sender-order': { status: 'pass', failures: 0, warnings: 0 },
        'recent-cache': { status: 'skipped', failures: 0, warnings: 0 },
        'search-index': { status: 'skipped', failures: 0, warnings: 0 },
        'dead-letters': { status: 'skipped', failures: 0, warnings: 0 },
        'consumer-lag': { status: 'skipped', failures: 0, warnings: 0 },
        audit: { status: 'pass', failures: 0, warnings: 0 },
      },
      rooms: [{ roomId: ROOM, messages: 4, lastSeq: 5, counter: 5 }],
      failures: [
        { check: 'seq', problem: 'hole', roomId: ROOM, message: 'seq 3 missing', seqs: [3] },
      ],
      warnings: [],
      notes: [],
      deadLetters: [],
      lag: [],
    };
    const text = formatReport(report, 'the environment');
    expect(text).toMatch(/seq\s+FAIL/);
    expect(text).toMatch(/recent-cache\s+skipped/);
    expect(text).toContain(`seq           ${ROOM} [hole] seq 3 missing`);
    expect(text).toContain('FAILED: 1 failure');
  });
});

describe('Kafka reads on a broker that just started', () => {
  it('are retried while the group coordinator is not ready, and only then', async () => {
    const { whenKafkaSettles } = await import('./audit-kafka');
    let calls = 0;
    const notYet = async () => {
      calls++;
      if (calls < 3) throw new Error('This is not the correct coordinator for this group');
      return 'offsets';
    };
    expect(await whenKafkaSettles(notYet, 5, 1)).toBe('offsets');
    expect(calls).toBe(3);
    let other = 0;
    await expect(
      whenKafkaSettles(
        async () => {
          other++;
          throw new Error('This server does not host this topic-partition');
        },
        5,
        1,
      ),
    ).rejects.toThrow(/does not host/);
    expect(other).toBe(1);
  });
});
