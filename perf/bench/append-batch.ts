/**
 * The message store alone on the real two MariaDB shards (tests/infra/up):
 * what a group commit saves per stored message. MESSAGES sends over ROOMS
 * rooms (half on each shard; each sender's sends of a room in order) are
 * stored in rounds of B, B = each of BATCHES, in two modes:
 *
 * - `batch`: one `appendMany` of B inputs per round — message-write's group
 *   commit: one transaction per shard;
 * - `concurrent`: B `append` calls per round, one transaction each, the
 *   rooms at once and a room's sends one after the other (as the KafkaSource
 *   delivers a partition) — message-write before it, with B events in flight
 *   (fewer when a round holds several sends of a room: B > ROOMS).
 *
 * B = 1 is the same in both modes (one send at a time), so it runs once.
 * Each run reports messages/s, the wall time of a round, and the CPU per
 * stored message of this process and of each mariadbd (from /proc, 10 ms
 * ticks; perf/src/proc-cpu.ts). Every run is checked afterwards: each room
 * holds exactly its sends at seqs 1..n, in send order, and its counter is n —
 * the bench fails loudly otherwise. Timings are recorded, never asserted.
 *
 * Usage: npm run bench:append -- [--messages 5000] [--rooms 20] [--batches 1,10,50]
 *   [--modes batch,concurrent] [--warmup 200] [--json] [--no-record]
 * It creates its own databases (parley_appendbench_<run>_0 on A, _1 on B) and
 * drops them when it ends, also when it fails. Writes JSON + markdown to
 * perf/results/.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { infraEnv, REPO_ROOT, twoShardSpec } from '@parley/launcher/infra';
import type { AppendInput, MessageStore } from '@parley/message-store';
import { messageMigrations } from '@parley/message-store/migrations';
import { MysqlMessageStore } from '@parley/message-store/mysql';
import { LOGICAL_SHARDS, logicalShardOf, migrate, newId, ShardedMysql } from '@parley/runtime';
import { CpuMeter, infraProcesses, type ProcRef } from '../src/proc-cpu';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    rooms: { type: 'string', default: '20' },
    batches: { type: 'string', default: '1,10,50' },
    modes: { type: 'string', default: 'batch,concurrent' },
    warmup: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
    'no-record': { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(values.messages);
const ROOMS = Number(values.rooms);
const WARMUP = Number(values.warmup);
const BATCHES = values.batches.split(',').map((b) => Number(b.trim()));
const MODES = values.modes.split(',').map((m) => m.trim());
for (const m of MODES)
  if (m !== 'batch' && m !== 'concurrent')
    throw new Error(`--modes: batch or concurrent, not ${m}`);
if (!(MESSAGES > 0 && ROOMS > 0 && BATCHES.every((b) => b > 0)))
  throw new Error('--messages, --rooms and --batches must be positive');

type Mode = 'batch' | 'concurrent';

interface RunResult {
  mode: Mode;
  batch: number;
  messages: number;
  rooms: number;
  wallMs: number;
  messagesPerSecond: number;
  /** Wall time of one round (one appendMany, or B appends at once), ms. */
  roundMs: { p50: number; p99: number; max: number };
  /** CPU ms per stored message: this process, each mariadbd, and all of them together. */
  cpuMsPerMessage: Record<string, number>;
  /**
   * Statements per stored message, from both servers' `Questions` (every
   * client's: more than this run's own when someone else used them meanwhile).
   */
  statementsPerMessage: number;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const cpuModel = () =>
  /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ??
  cpus()[0]?.model ??
  'cpu';
const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Statements both servers have run so far (every client's). */
async function questions(db: ShardedMysql): Promise<number> {
  const counts = await Promise.all(
    db.allPools().map(async (pool) => {
      const [rows] = await pool.query("SHOW GLOBAL STATUS LIKE 'Questions'");
      return Number((rows as { Value: string }[])[0]?.Value ?? 0);
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** A fresh room id on the lower (logical 0-31, MariaDB A) or upper (32-63, B) half. */
function roomOn(half: 'lower' | 'upper'): string {
  for (;;) {
    const id = newId('r');
    if (logicalShardOf(id) < LOGICAL_SHARDS / 2 === (half === 'lower')) return id;
  }
}

/** `n` sends over `rooms` fresh rooms, half on each shard, round robin; two senders per room. */
function workload(n: number, rooms: number, tag: string): AppendInput[] {
  const ids = Array.from({ length: rooms }, (_, i) => roomOn(i % 2 ? 'upper' : 'lower'));
  const body = 'a message of an ordinary length, with a little UTF-8: 안녕하세요 👋';
  return Array.from({ length: n }, (_, i) => ({
    id: newId('m'),
    roomId: ids[i % rooms] as string,
    senderId: i % (2 * rooms) < rooms ? 'u_a' : 'u_b',
    clientMsgId: `${tag}-${i}`,
    body,
    ts: Date.now(),
  }));
}

/** Stores `inputs` in rounds of `batch`; every send must come back created. */
async function storeAll(store: MessageStore, inputs: AppendInput[], mode: Mode, batch: number) {
  const rounds: number[] = [];
  for (let at = 0; at < inputs.length; at += batch) {
    const chunk = inputs.slice(at, at + batch);
    const t0 = performance.now();
    if (mode === 'batch') {
      for (const o of await store.appendMany(chunk)) {
        if (o.status === 'rejected') throw o.reason;
        if (!o.value.created) throw new Error(`${o.value.message.clientMsgId} was not created`);
      }
    } else {
      // A room's sends one after the other, as its partition delivers them; the rooms at once.
      const byRoom = new Map<string, AppendInput[]>();
      for (const i of chunk) byRoom.set(i.roomId, [...(byRoom.get(i.roomId) ?? []), i]);
      await Promise.all(
        [...byRoom.values()].map(async (sends) => {
          for (const input of sends) {
            const r = await store.append(input);
            if (!r.created) throw new Error(`${r.message.clientMsgId} was not created`);
          }
        }),
      );
    }
    rounds.push(performance.now() - t0);
  }
  return rounds;
}

/** Each room holds exactly its sends, at seqs 1..n in send order, and its counter says n. */
async function check(s: MessageStore, inputs: AppendInput[]) {
  const byRoom = new Map<string, string[]>();
  for (const i of inputs) byRoom.set(i.roomId, [...(byRoom.get(i.roomId) ?? []), i.clientMsgId]);
  for (const [room, sent] of byRoom) {
    const { messages, hasMore } = await s.page(room, { after: 0, limit: sent.length + 1 });
    const got = messages.map((m) => `${m.seq}:${m.clientMsgId}`);
    const want = sent.map((c, i) => `${i + 1}:${c}`);
    if (hasMore || got.join() !== want.join())
      throw new Error(
        `room ${room}: stored ${got.length} messages, not its ${want.length} sends in order`,
      );
    const last = await s.lastSeq(room);
    if (last !== sent.length)
      throw new Error(`room ${room}: counter ${last}, ${sent.length} stored`);
  }
}

const run = randomBytes(3).toString('hex');
const dbName = `parley_appendbench_${run}`;
const infra = infraEnv();
const spec = twoShardSpec(infra, dbName);
const mariadb: ProcRef[] = infraProcesses().filter((p) => p.name.startsWith('mariadb'));
if (mariadb.length !== 2)
  progress(`warning: found ${mariadb.length} mariadbd pid files under .parley/ (want 2)`);
const self: ProcRef = { name: 'bench', pid: process.pid };
const LOAD_AT_START = loadavg();
/** What else was busy when the run began (the machine is shared). */
const BUSIEST_AT_START = (() => {
  try {
    return execFileSync('ps', ['-eo', 'pcpu,args', '--sort=-pcpu'], { encoding: 'utf8' })
      .split('\n')
      .slice(1, 7)
      .map((l) => l.trim().slice(0, 110))
      .filter(Boolean);
  } catch {
    return [];
  }
})();
const started = performance.now();
const results: RunResult[] = [];
const db = ShardedMysql.fromSpec(spec);

try {
  progress(`creating ${dbName}_0 on A and ${dbName}_1 on B…`);
  await migrate(spec, await messageMigrations());
  const s = new MysqlMessageStore(db);
  // Warm the pools, the statements and InnoDB's pages a little, in both modes.
  await storeAll(s, workload(WARMUP, ROOMS, 'warm-b'), 'batch', 10);
  await storeAll(s, workload(WARMUP, ROOMS, 'warm-c'), 'concurrent', 10);

  const plan: [Mode, number][] = [];
  for (const b of BATCHES)
    for (const mode of MODES as Mode[]) if (b > 1 || mode === MODES[0]) plan.push([mode, b]);
  for (const [mode, batch] of plan) {
    const inputs = workload(MESSAGES, ROOMS, `${mode}-${batch}`);
    const q0 = await questions(db);
    const meter = new CpuMeter([self, ...mariadb]).start();
    const rounds = await storeAll(s, inputs, mode, batch);
    const { wallMs, cpuMs } = meter.read();
    // Less the two SHOW STATUS of this reading.
    const statements = (await questions(db)) - q0 - 2;
    await check(s, inputs);
    const per: Record<string, number> = {};
    for (const [name, ms] of Object.entries(cpuMs)) per[name] = round(ms / MESSAGES);
    per.total = round(Object.values(cpuMs).reduce((a, b) => a + b, 0) / MESSAGES);
    const sorted = [...rounds].sort((a, b) => a - b);
    const r: RunResult = {
      mode: batch === 1 ? 'batch' : mode,
      batch,
      messages: MESSAGES,
      rooms: ROOMS,
      wallMs: round(wallMs, 1),
      messagesPerSecond: Math.round((MESSAGES * 1000) / wallMs),
      roundMs: {
        p50: round(quantile(sorted, 0.5)),
        p99: round(quantile(sorted, 0.99)),
        max: round(sorted.at(-1) ?? 0),
      },
      cpuMsPerMessage: per,
      statementsPerMessage: round(statements / MESSAGES, 2),
    };
    results.push(r);
    progress(
      `${batch === 1 ? 'one at a time' : `${mode} ${batch}`}: ${r.messagesPerSecond} msg/s, round p50 ${r.roundMs.p50} ms, ${r.statementsPerMessage} statements/msg; CPU/msg ${Object.entries(
        per,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} ms (checked: gap-free, in order)`,
    );
  }
} finally {
  await Promise.all(
    db.allPools().map((pool, i) =>
      pool.query(`DROP DATABASE IF EXISTS \`${dbName}_${i}\``).catch((err: Error) => {
        progress(`dropping ${dbName}_${i} failed: ${err.message}`);
      }),
    ),
  );
  await db.close();
}
const seconds = round((performance.now() - started) / 1000, 1);

/** The table a person reads: one row per run, ratios against one at a time. */
function human(): string {
  const base = results.find((r) => r.batch === 1);
  const names = [...new Set(results.flatMap((r) => Object.keys(r.cpuMsPerMessage)))];
  const lines = [
    `bench:append — ${MESSAGES} messages over ${ROOMS} rooms per run, two MariaDB shards, ${seconds} s`,
    '',
    `| run | msg/s | round p50 / p99 (ms) | statements/msg | ${names.map((n) => `CPU/msg ${n} (ms)`).join(' | ')} | ×msg/s | ×CPU total |`,
    `| --- | --- | --- | --- | ${names.map(() => '---').join(' | ')} | --- | --- |`,
  ];
  for (const r of results) {
    const label = r.batch === 1 ? 'one at a time' : `${r.mode} ${r.batch}`;
    const speed = base ? round(r.messagesPerSecond / base.messagesPerSecond, 2) : '–';
    const cpu =
      base && r.cpuMsPerMessage.total
        ? round((base.cpuMsPerMessage.total ?? 0) / r.cpuMsPerMessage.total, 2)
        : '–';
    lines.push(
      `| ${label} | ${r.messagesPerSecond} | ${r.roundMs.p50} / ${r.roundMs.p99} | ${r.statementsPerMessage} | ${names.map((n) => r.cpuMsPerMessage[n] ?? '–').join(' | ')} | ${speed} | ${cpu} |`,
    );
  }
  lines.push(
    '',
    '×msg/s: messages/s relative to one at a time; ×CPU total: CPU per message of one at a time divided by this run’s (higher is cheaper). statements/msg: both servers’ `Questions` (BEGIN and COMMIT included) per message.',
  );
  return lines.join('\n');
}

const record = {
  command: [
    'npm run bench:append',
    ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
  ].join(' '),
  when: new Date().toISOString(),
  commit: git('rev-parse', 'HEAD'),
  uncommittedFiles: git('status', '--porcelain').split('\n').filter(Boolean).length,
  machine: {
    cpus: cpus().length,
    model: cpuModel(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: LOAD_AT_START,
    loadAverageAtEnd: loadavg(),
    busiestProcessesAtStart: BUSIEST_AT_START,
  },
  settings: { messages: MESSAGES, rooms: ROOMS, warmup: WARMUP, batches: BATCHES, modes: MODES },
  results,
};

if (values.json) {
  console.log(JSON.stringify(record, null, 2));
  progress(human());
} else {
  console.log(human());
}

if (!values['no-record']) {
  const stem = join(
    REPO_ROOT,
    'perf',
    'results',
    `${record.when.slice(0, 10)}-${record.when.slice(11, 16).replace(':', '')}-append-batch`,
  );
  writeFileSync(`${stem}.json`, `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(
    `${stem}.md`,
    '# The message store alone: group commit (appendMany) against one transaction per send\n\n' +
      `- when: ${record.when}\n- command: \`${record.command}\`\n` +
      `- commit: ${record.commit} (${record.uncommittedFiles} files changed in the working tree)\n` +
      `- machine: ${record.machine.cpus} × ${record.machine.model}, ${record.machine.memoryGiB} GiB, Node ${record.machine.node}; load average (1, 5, 15 min) at the start ${record.machine.loadAverageAtStart}, at the end ${record.machine.loadAverageAtEnd}\n` +
      `- busiest processes at the start (ps %CPU: averaged over each one's life): ${record.machine.busiestProcessesAtStart.map((p) => `\`${p}\``).join('; ')}\n` +
      '- MariaDB ×2 of tests/infra/up (innodb_flush_log_at_trx_commit=2); rounds one after the other; statements/msg of 5 one at a time and concurrent, 10/B in batches of B (five per transaction, one transaction per shard) show that no other client used the servers meanwhile\n' +
      `- took ${seconds} s\n\n` +
      `${human()}\n`,
  );
  progress(`recorded ${stem}.json and .md`);
}
