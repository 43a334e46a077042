/**
 * Faults on the real stack, one at a time, while a room chats: each case
 * injects one fault, heals it (or lets the system heal itself), then checks
 * that nothing acknowledged was lost or doubled, seqs are gap-free, each
 * sender's order held and every member ended with every message once
 * (checkRoom), and that the system recovered without a human.
 *
 * The suite runs on its own MariaDB ×2, Redis, Kafka and Elasticsearch
 * (fault-infra.ts), so killing them touches nothing else. The hostile clients
 * of issue 10 (hostile.ts) attack the same stack at the end.
 */
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  createEvent,
  deadLetterTopic,
  TOPICS,
  TRIGGER_SOURCES,
  toKafkaRecord,
} from '@parley/eventing';
import {
  createKafka,
  createRecordConsumer,
  createRecordProducer,
} from '@parley/eventing/kafka/kafka';
import { audit, type SkippableCheck } from '@parley/launcher/audit';
import { gatewayName, type Stack, startStack } from '@parley/launcher/stack';
import { Api, WsClient } from '@parley/perf/client';
import type { Message } from '@parley/protocol';
import { createLogger, logicalShardOf } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAULT_INFRA_ENV,
  killService,
  serviceDir,
  startService,
  stopAll,
  stopService,
  useFaultInfra,
  wipeAll,
} from './fault-infra';
import { socketsUntilRefused, syncAmplification, unknownUserToken } from './hostile';
import { ChatWorkload, checkRoom } from './workload';

useFaultInfra();

const REPORT_DIR = join(FAULT_INFRA_ENV.PARLEY_INFRA_DIR as string, 'report');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let stack: Stack | undefined;
const running = (): Stack => {
  if (!stack) throw new Error('stack did not start');
  return stack;
};

beforeAll(async () => {
  await wipeAll();
  rmSync(REPORT_DIR, { recursive: true, force: true });
  mkdirSync(REPORT_DIR, { recursive: true });
  stack = await startStack({
    gatewayPort: 19080,
    gateways: 2,
    portBase: 19100,
    dbPrefix: 'parley_faults',
    logDir: join(REPORT_DIR, 'logs'),
    verbose: true,
  });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await stopAll();
}, 120_000);

interface Outcome {
  fault: string;
  acked: number;
  stored: number;
  /** From the end of the injection until sends were acknowledged again. */
  recoveryMs: number;
  maxAckLatencyMs: number;
  retriedSends: number;
  repeatedFrames: number;
  /** Messages members first got from a sync answer (a live fan-out that never came). */
  firstSeenBySync: number;
  /** After the drain, how long until search found every stored message (when checked). */
  searchCatchUpMs?: number;
  auditWarnings: number;
  reconnects: number;
  errorFrames: Record<string, number>;
  closeCodes: Record<string, number>;
  problems: string[];
}

/**
 * Runs a chat of `members` on both gateways, injects the fault once it is
 * flowing, waits for it to flow again, drains and checks.
 */
async function underFault(
  fault: string,
  inject: (w: ChatWorkload) => Promise<void>,
  opts: {
    recoverWithinMs?: number;
    pipelined?: boolean;
    /** Extra checks after the drain, while the room is still there; return problems. */
    after?: (w: ChatWorkload, stored: Message[]) => Promise<string[]>;
    /** Checks of `npm run audit` this fault makes meaningless (the poison case checks its own). */
    auditSkip?: SkippableCheck[];
  } = {},
): Promise<Outcome> {
  // Every case starts from a whole stack, whatever the previous one left down.
  const healed = await running().heal();
  if (healed.length) process.stderr.write(`[faults] restarted before "${fault}": ${healed}\n`);
  const w = new ChatWorkload({
    gatewayUrls: running().gatewayUrls,
    members: opts.pipelined ? 7 : 4,
    ratePerMember: 5,
    tag: `f${Date.now().toString(36)}`,
    // Three members pipelining 8 msg/s each on top (inside the per-user send budget): the load
    // that used to wedge the gateway when the broker restarted.
    ...(opts.pipelined ? { pipelined: { members: 3, window: 100, ratePerMember: 8 } } : {}),
  });
  try {
    await w.setUp();
    w.start();
    await w.waitForAcks(20, 30_000);
    await inject(w);
    const recoveryMs = await w.waitForAcks(20, opts.recoverWithinMs ?? 90_000);
    await sleep(1_000);
    await w.drain(60_000);
    const stored = await w.stored();
    searchCatchUpMs = undefined;
    const extra = (await opts.after?.(w, stored)) ?? [];
    // The operators' audit of the room, server side: exactly once, gap-free, each sender's
    // acknowledged order, recent cache vs MySQL, search index vs MySQL, nothing of the room
    // dead-lettered, and every consumer group back to lag 0 (nothing blocked a partition).
    const env = running().env;
    const expect: Record<string, string[]> = {};
    for (const m of w.members)
      if (m.window === 1) expect[m.userId] = m.acked.map((a) => a.clientMsgId);
    const report = await audit({
      connections: {
        messageDbShards: env.MESSAGE_DB_SHARDS as string,
        redisUrl: env.REDIS_URL as string,
        esUrl: env.ES_URL as string,
        searchIndexAlias: env.SEARCH_INDEX_ALIAS as string,
        kafkaBrokers: env.KAFKA_BROKERS as string,
      },
      scope: { rooms: [w.roomId] },
      expect: { [w.roomId]: expect },
      settleMs: 120_000,
      ...(opts.auditSkip ? { skip: opts.auditSkip } : {}),
    });
    const auditProblems = report.failures.map((f) => `audit ${f.check}: ${f.message}`);
    for (const m of w.members) await m.catchUp(stored.length, 30_000);
    const acked = w.members.flatMap((m) => m.acked);
    const errorFrames: Record<string, number> = {};
    const closeCodes: Record<string, number> = {};
    for (const m of w.members) {
      for (const e of m.errors) errorFrames[e.code] = (errorFrames[e.code] ?? 0) + 1;
      for (const c of m.closes) closeCodes[c.code] = (closeCodes[c.code] ?? 0) + 1;
    }
    const outcome: Outcome = {
      fault,
      acked: acked.length,
      stored: stored.length,
      recoveryMs,
      maxAckLatencyMs: Math.max(...acked.map((a) => a.latencyMs)),
      retriedSends: acked.filter((a) => a.attempts > 1).length,
      repeatedFrames: w.members.reduce((n, m) => n + m.repeatedFrames, 0),
      firstSeenBySync: w.members.reduce((n, m) => n + m.firstSeenBySync, 0),
      reconnects: w.members.reduce((n, m) => n + m.readyCount - 1, 0),
      errorFrames,
      closeCodes,
      ...(searchCatchUpMs !== undefined ? { searchCatchUpMs } : {}),
      auditWarnings: report.warnings.length,
      problems: [...checkRoom(w.members, stored), ...extra, ...auditProblems],
    };
    appendFileSync(join(REPORT_DIR, 'outcomes.jsonl'), `${JSON.stringify(outcome)}\n`);
    process.stderr.write(`[faults] ${JSON.stringify(outcome)}\n`);
    return outcome;
  } finally {
    w.close();
  }
}

/** Kills `name`, starts it armed with `point`, waits until the point kills it, starts it clean. */
async function crashAt(name: string, point: string): Promise<void> {
  const s = running();
  await s.kill(name);
  await s.start(name, { args: [`--failpoints=${point}`], waitReady: false });
  const how = await s.exited(name, 90_000);
  if (how !== 'SIGKILL') throw new Error(`${name} exited with ${how}, not at ${point}`);
  await s.start(name);
}

/** Runs `name` armed with `action` at `point` for `forMs`, then restarts it clean. */
async function misbehave(name: string, point: string, forMs: number): Promise<void> {
  const s = running();
  await s.kill(name);
  await s.start(name, { args: [`--failpoints=${point}`] });
  await sleep(forMs);
  await s.restart(name);
}

/** The search index holds exactly the stored messages (through the public search API). */
let searchCatchUpMs: number | undefined;
async function searchMatches(w: ChatWorkload, stored: Message[]): Promise<string[]> {
  const t0 = Date.now();
  // Indexing catches up after the fault: a consumer group that lost its broker rejoins only
  // after the old member's session times out, so this can take a minute or more.
  const found = await w.searchable(stored.length, 180_000);
  searchCatchUpMs = Date.now() - t0;
  const want = new Set(stored.map((m) => m.id));
  const missing = [...want].filter((id) => !found.has(id));
  const extra = [...found].filter((id) => !want.has(id));
  return [
    ...(missing.length ? [`search misses ${missing.length} stored messages`] : []),
    ...(extra.length ? [`search finds ${extra.length} messages that are not stored`] : []),
  ];
}

describe('faults on the real stack', () => {
  it('the Kafka broker killed (-9) and restarted 5 s later', async () => {
    const o = await underFault(
      'kafka broker kill -9, restart after 5 s',
      async () => {
        await killService('kafka');
        await sleep(5_000);
        await startService('kafka');
      },
      { pipelined: true, after: searchMatches },
    );
    expect(o.problems).toEqual([]);
  });

  for (const point of [
    'message-write.after-commit',
    'message-write.before-emit',
    'message-write.before-reply',
  ]) {
    it(`message-write killed (-9) at ${point}`, async () => {
      const o = await underFault(
        `message-write kill -9 at ${point}`,
        () => crashAt('message-write', point),
        { after: searchMatches },
      );
      expect(o.problems).toEqual([]);
      // The redelivery shows the message to the room: nobody needed a sync to see it.
      expect(o.firstSeenBySync).toBe(0);
    });
  }

  it('message-index killed (-9) after indexing, before answering', async () => {
    const o = await underFault(
      'message-index kill -9 at before-reply',
      () => crashAt('message-index', 'message-index.before-reply'),
      { after: searchMatches },
    );
    expect(o.problems).toEqual([]);
  });

  it('room-ops killed (-9) after an invite, before answering: the invite happens once', async () => {
    let invitee = '';
    const o = await underFault(
      'room-ops kill -9 at before-reply (invite)',
      async (w) => {
        invitee = (await w.http.signup('invitee')).user.id;
        const s = running();
        await s.kill('room-ops');
        await s.start('room-ops', { args: ['--failpoints=room-ops.before-reply'] });
        const inviting = w.invite(invitee, 90_000);
        await s.exited('room-ops', 90_000);
        await s.start('room-ops');
        await inviting;
      },
      {
        after: async (w) => {
          const ids = await w.memberIds();
          const n = ids.filter((id) => id === invitee).length;
          return n === 1 ? [] : [`the invitee is listed ${n} times among ${ids.length} members`];
        },
      },
    );
    expect(o.problems).toEqual([]);
  });

  for (const [name, point] of [
    ['message-write-source', 'kafka-source.before-commit'],
    ['message-index-source', 'kafka-source.before-commit'],
    ['kafka-sink', 'kafka-sink.after-produce'],
  ] as const) {
    it(`the ${name} stand-in killed (-9) at ${point}`, async () => {
      const o = await underFault(`${name} kill -9 at ${point}`, () => crashAt(name, point), {
        after: searchMatches,
      });
      expect(o.problems).toEqual([]);
    });
  }

  it('a consumer-group rebalance: a second message-write source joins, then leaves', async () => {
    const o = await underFault(
      'a second message-write source joins the group, then leaves it (two rebalances)',
      async () => {
        await running().startCopy('message-write-source', 'message-write-source-2');
        await sleep(8_000);
        await running().terminate('message-write-source-2');
      },
    );
    expect(o.problems).toEqual([]);
  });

  it('a gateway killed (-9) with clients connected: they reconnect, sync and resend', async () => {
    const o = await underFault('gateway 1 kill -9, started again after 2 s', async () => {
      await running().kill(gatewayName(0));
      await sleep(2_000);
      await running().start(gatewayName(0));
    });
    expect(o.problems).toEqual([]);
    expect(o.reconnects).toBeGreaterThan(0);
  });

  it('both gateways restarted one after the other (SIGTERM, a rolling deploy)', async () => {
    const o = await underFault('rolling restart of both gateways (SIGTERM)', async () => {
      await running().restart(gatewayName(0));
      await running().restart(gatewayName(1));
    });
    expect(o.problems).toEqual([]);
    expect(o.closeCodes['1001']).toBeGreaterThan(0);
  });

  it('the MariaDB message shard of the room killed (-9) and restarted', async () => {
    const o = await underFault(
      "mariadb shard (the room's) kill -9, restart",
      async (w) => {
        const shard = logicalShardOf(w.roomId) < 32 ? 'mysqlA' : 'mysqlB';
        await killService(shard);
        await sleep(2_000);
        await startService(shard);
      },
      { after: searchMatches },
    );
    expect(o.problems).toEqual([]);
  });

  it('Redis killed (-9) and restarted empty: cache, membership and pub/sub lost', async () => {
    const o = await underFault(
      'redis kill -9, restart with its data gone',
      async () => {
        await killService('redis');
        for (const f of ['dump.rdb', 'appendonly.aof', 'appendonlydir'])
          rmSync(join(serviceDir('redis'), f), { recursive: true, force: true });
        await sleep(2_000);
        await startService('redis');
      },
      { after: searchMatches },
    );
    expect(o.problems).toEqual([]);
  });

  it('Elasticsearch down for 30 s: search says 503 meanwhile, indexing catches up', async () => {
    const answers: number[] = [];
    const o = await underFault(
      'elasticsearch stopped for 30 s',
      async (w) => {
        await stopService('es');
        const until = Date.now() + 30_000;
        const token = (w.members[0] as { account: { token: string } }).account.token;
        while (Date.now() < until) {
          const res = await fetch(
            `${running().gatewayUrl}/api/v1/search?q=message&roomId=${encodeURIComponent(w.roomId)}`,
            { headers: { authorization: `Bearer ${token}` } },
          );
          answers.push(res.status);
          await res.body?.cancel();
          await sleep(2_000);
        }
        await startService('es');
      },
      { after: searchMatches },
    );
    expect(o.problems).toEqual([]);
    // While it was down: 503, never a wrong (partial) answer presented as a result.
    expect(answers.length).toBeGreaterThan(5);
    expect(new Set(answers.slice(1))).toEqual(new Set([503]));
  });

  it('message-write answering 5xx for 5 s, then slowly (3 s per event) for 10 s', async () => {
    const o = await underFault(
      'message-write 5xx for 5 s, then 3 s per event for 10 s',
      async () => {
        await misbehave('message-write', 'message-write.before-handle=error', 5_000);
        await misbehave('message-write', 'message-write.before-handle=delay:3000', 10_000);
      },
      { after: searchMatches, recoverWithinMs: 120_000 },
    );
    expect(o.problems).toEqual([]);
  });

  it('a poison record on each consumed topic goes to its dead-letter topic and blocks nothing', async () => {
    const marker = `poison-${Date.now().toString(36)}`;
    const kafka = createKafka({
      brokers: running().env.KAFKA_BROKERS as string,
      clientId: 'faults',
      log: createLogger('faults', 'warn'),
    });
    const producer = createRecordProducer(kafka);
    // Every topic a KafkaSource of the table consumes (notify's included).
    const consumed = [...new Set(TRIGGER_SOURCES.map((x) => x.topic))];
    const o = await underFault(
      "poison records (garbage, and an event the function refuses) on the room's partitions",
      async (w) => {
        // Keyed by the room: the same partition as the room's own traffic, which must go on.
        for (const topic of consumed)
          await producer.send(topic, { key: w.roomId, value: `${marker} not JSON`, headers: {} });
        // A well-formed event of a type message-write does not handle: refused (400).
        const wrong = toKafkaRecord(
          createEvent(
            'parley.room.member.leave',
            { actorId: w.members[0]?.userId as string, roomId: w.roomId },
            { source: 'faults', id: `${marker}-refused` },
          ),
        );
        await producer.send(TOPICS.messageCommands, { ...wrong, key: w.roomId });
      },
      {
        // The room's dead letters are the point here: checked below, record by record.
        auditSkip: ['dead-letters'],
        after: async () => {
          const problems: string[] = [];
          for (const topic of consumed) {
            const dead = await deadLetters(kafka, deadLetterTopic(topic), 30_000, (v) =>
              v.includes(marker),
            );
            if (dead === 0)
              problems.push(`the garbage record on ${topic} is not in its dead-letter topic`);
          }
          const refused = await deadLetters(
            kafka,
            deadLetterTopic(TOPICS.messageCommands),
            30_000,
            (_v, h) => h.ce_id === `${marker}-refused`,
          );
          if (refused === 0)
            problems.push('the refused event is not in parley.message.commands.dlq');
          return problems;
        },
      },
    );
    await producer.close();
    expect(o.problems).toEqual([]);
  });
});

/** Records of `topic` (from the beginning) matching `pred`, read until one matches or the timeout. */
async function deadLetters(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  timeoutMs: number,
  pred: (value: string, headers: Record<string, string>) => boolean,
): Promise<number> {
  let n = 0;
  const consumer = createRecordConsumer(kafka, {
    group: `faults-dlq-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    topics: [topic],
    fromBeginning: true,
    handle: async (r) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v) headers[k] = v.toString();
      if (pred(r.value?.toString() ?? '', headers)) n++;
      return 'commit';
    },
  });
  await consumer.start();
  const deadline = Date.now() + timeoutMs;
  while (n === 0 && Date.now() < deadline) await sleep(250);
  await consumer.stop();
  return n;
}

describe('hostile clients on the real stack', () => {
  it('sync amplification: the attacker gets what its byte budget allows; another user is answered', async () => {
    const o = await syncAmplification(running().gatewayUrl, {
      messages: 200,
      sockets: 10,
      rate: 20,
      seconds: 8,
    });
    appendFileSync(
      join(REPORT_DIR, 'hostile.jsonl'),
      `${JSON.stringify({ attack: 'sync amplification', ...o })}\n`,
    );
    process.stderr.write(`[hostile] sync amplification ${JSON.stringify(o)}\n`);
    expect(o.attackerBytes).toBeLessThanOrEqual(o.budgetBytes);
    expect(o.rateLimited).toBeGreaterThan(0);
    expect(o.victimPongs).toBe(o.victimPings);
  });

  it('one user gets 20 WebSockets on a gateway; the 21st handshake is refused (429)', async () => {
    const url = running().gatewayUrl;
    const account = await new Api(url).signup('many');
    expect(await socketsUntilRefused(url, account, 30)).toEqual({ opened: 20, refusedWith: 429 });
  });

  it('a validly signed token of a user that does not exist is refused everywhere (401)', async () => {
    const url = running().gatewayUrl;
    const token = await unknownUserToken(running().env.JWT_SECRET as string);
    expect(await WsClient.handshakeStatus(`${url.replace(/^http/, 'ws')}/ws?token=${token}`)).toBe(
      401,
    );
    for (const path of ['/api/v1/rooms', '/api/v1/users?q=ann', '/api/v1/me']) {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, path).toBe(401);
      await res.body?.cancel();
    }
  });
});
