/**
 * One chat load session on a target: users, rooms and sockets set up once, then any number of
 * measured phases (a stress ramp's steps, a fixed-rate run), each with the CPU every process
 * spent on it, then a drain and the checks that nothing was lost or doubled: what each member was
 * shown, what the message store holds (read back through the history API), and whether the
 * messages became searchable.
 */
import { randomBytes } from 'node:crypto';
import type { Message } from '@parley/protocol';
import { type Account, Api } from '../src/client';
import { CpuMeter, type ProcRef, procCpuTicks, TICKS_PER_SECOND } from '../src/proc-cpu';
import type { CpuRow } from '../src/record';
import { ChatLoad, type PhaseStats, type Verification } from './chat-load';
import {
  esCount,
  type IndexLag,
  IndexWatcher,
  indexingLag,
  lastMessagesSearchable,
} from './index-check';
import { connectAll, createRooms, type LoadRoom, pool, signupMany } from './setup';
import { fmtMs } from './stats';
import type { Target } from './target';

/** Progress lines go to stderr, so stdout stays for a final JSON if a caller wants one. */
export const say = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

export interface ChatSession {
  target: Target;
  api: Api;
  accounts: Account[];
  rooms: LoadRoom[];
  load: ChatLoad;
  /** Every process CPU is read from: the target's and this client. */
  procs: ProcRef[];
  /** Elasticsearch document count readings (real stack). */
  index?: IndexWatcher;
  /** CPU ms per second of each process while nothing ran (read before the load). */
  idleCpuPerSecond: Record<string, number>;
  setupSeconds: number;
  /** Every phase measured, in order (their idle correction is redone at the end). */
  phases: PhaseResult[];
}

export interface PhaseResult extends PhaseStats {
  /** Settled: every message of the phase acked (or refused) and delivered before the next began. */
  settled: boolean;
  cpu: {
    wallMs: number;
    totalCpuMs: number;
    /** All processes' CPU over the phase (its sending and its settling) per stored message. */
    perMessageMs: number | null;
    /**
     * The same less what the processes burn when idle (measured before the load, times the phase's
     * wall time): the JVMs and timers tick whatever the rate, which weighs on a slow phase.
     */
    perMessageAboveIdleMs: number | null;
    /**
     * Per stored message by group: Parley's own processes (the stack's, or the embedded one), the
     * services under it (MariaDB, Redis, Kafka, Elasticsearch: shared, so others' use counts too)
     * and the load client.
     */
    perMessageByGroupMs: Record<ProcGroup, number> | null;
    clientCpuMs: number;
    byProcess: CpuRow[];
  };
}

/** Which side of the run a process is on (see PhaseResult.cpu.perMessageByGroupMs). */
export type ProcGroup = 'parley' | 'services' | 'client';

const SERVICES = new Set(['mariadb-a', 'mariadb-b', 'redis', 'kafka', 'elasticsearch']);

/** The group of a process by its name (infraProcesses' names are the services). */
export function groupOf(name: string): ProcGroup {
  if (name.startsWith('client')) return 'client';
  return SERVICES.has(name) ? 'services' : 'parley';
}

/** The CPU each process spends per second doing nothing (JVMs and timers tick when idle). */
async function idleCpu(procs: ProcRef[], ms: number): Promise<Record<string, number>> {
  const meter = new CpuMeter(procs).start();
  await new Promise((r) => setTimeout(r, ms));
  const { cpuMs, wallMs } = meter.read();
  return Object.fromEntries(
    Object.entries(cpuMs).map(([k, v]) => [k, Math.round((v / wallMs) * 1000 * 10) / 10]),
  );
}

/**
 * Signs `users` users up, puts them in `rooms` rooms of equal size, opens a socket each and
 * attaches the load (nothing is sent yet).
 */
export async function openChatSession(
  target: Target,
  opts: { users: number; rooms: number; bodyChars: number },
): Promise<ChatSession> {
  const started = performance.now();
  const api = new Api(target.url);
  const run = randomBytes(3).toString('hex');
  say(`setup: ${opts.users} users in ${opts.rooms} rooms on ${target.url} (run ${run})…`);
  const accounts = await signupMany(api, opts.users, `ld${run}`, (n) =>
    say(`  signed up ${n}/${opts.users}`),
  );
  const rooms = await createRooms(api, accounts, opts.rooms, `load ${run}`);
  const sockets = await connectAll(api.wsUrl(), accounts, { concurrency: 50 });
  const load = new ChatLoad(rooms, sockets, { bodyChars: opts.bodyChars, tag: `${run}-` });
  const procs = [...target.procs(), { name: 'client (this harness)', pid: process.pid }];
  // Let what setup set off (sign-up and room events, first index writes) pass, then read idle.
  await new Promise((r) => setTimeout(r, 2000));
  const idleCpuPerSecond = await idleCpu(procs, 3000);
  const session: ChatSession = {
    target,
    api,
    accounts,
    rooms,
    load,
    procs,
    idleCpuPerSecond,
    setupSeconds: Math.round((performance.now() - started) / 100) / 10,
    phases: [],
  };
  const search = target.search;
  if (search) {
    const ids = rooms.map((r) => r.id);
    session.index = new IndexWatcher(() => esCount(search.esUrl, search.alias, ids)).start();
  }
  say(`setup done in ${session.setupSeconds} s`);
  return session;
}

/**
 * One phase: `rate` messages a second for `seconds` (open loop), then up to `settleMs` for its
 * messages to be acked and delivered; CPU is read over both.
 */
export async function measurePhase(
  s: ChatSession,
  label: string,
  rate: number,
  seconds: number,
  settleMs: number,
): Promise<PhaseResult> {
  const meter = new CpuMeter(s.procs).start();
  const idx = await s.load.run(label, rate, seconds);
  const settled = await s.load.settle(idx, settleMs);
  const { wallMs, cpuMs, totalCpuMs } = meter.read();
  const stats = s.load.stats(idx);
  const per = (ms: number) =>
    stats.stored > 0 ? Math.round((ms / stats.stored) * 1000) / 1000 : undefined;
  const byProcess: CpuRow[] = Object.entries(cpuMs)
    .map(([name, ms]) => {
      const perUnitMs = per(ms);
      return { name, cpuMs: Math.round(ms), ...(perUnitMs === undefined ? {} : { perUnitMs }) };
    })
    .sort((a, b) => b.cpuMs - a.cpuMs);
  const clientCpuMs = byProcess.find((r) => r.name.startsWith('client'))?.cpuMs ?? 0;
  const byGroup: Record<ProcGroup, number> = { parley: 0, services: 0, client: 0 };
  for (const [name, ms] of Object.entries(cpuMs)) byGroup[groupOf(name)] += ms;
  const result: PhaseResult = {
    ...stats,
    settled,
    cpu: {
      wallMs: Math.round(wallMs),
      totalCpuMs: Math.round(totalCpuMs),
      perMessageMs: per(totalCpuMs) ?? null,
      perMessageAboveIdleMs: aboveIdle(totalCpuMs, wallMs, stats.stored, s.idleCpuPerSecond),
      perMessageByGroupMs:
        stats.stored > 0
          ? {
              parley: per(byGroup.parley) as number,
              services: per(byGroup.services) as number,
              client: per(byGroup.client) as number,
            }
          : null,
      clientCpuMs,
      byProcess,
    },
  };
  s.phases.push(result);
  return result;
}

/** CPU per stored message less the idle burn over the same wall time. */
function aboveIdle(
  totalCpuMs: number,
  wallMs: number,
  stored: number,
  idlePerSecond: Record<string, number>,
): number | null {
  if (stored === 0) return null;
  const idleMs = Object.values(idlePerSecond).reduce((a, b) => a + b, 0) * (wallMs / 1000);
  return Math.round((Math.max(0, totalCpuMs - idleMs) / stored) * 1000) / 1000;
}

/**
 * Past this p99 lag against its schedule, the client (sharing the cores with what it measures)
 * did not offer the load it says: the phase's numbers are of a lower, burstier rate.
 */
export const CLIENT_LAG_WARN_MS = 50;

/** One progress line for a phase. */
export function phaseLine(p: PhaseResult): string {
  const refused = p.refused ? `  refused ${p.refused} ${JSON.stringify(p.refusalsByCode)}` : '';
  const unacked = p.unacked ? `  UNACKED ${p.unacked}` : '';
  const perMsg =
    p.cpu.perMessageMs === null
      ? '–'
      : `${p.cpu.perMessageMs.toFixed(2)} ms (${p.cpu.perMessageAboveIdleMs?.toFixed(2)} above idle)`;
  const client = p.stored ? (p.cpu.clientCpuMs / p.stored).toFixed(2) : '–';
  return (
    `${p.label}: offered ${p.offeredPerSecond}/s  achieved ${p.achievedPerSecond}/s  ` +
    `ack p50 ${fmtMs(p.ack.p50)} p99 ${fmtMs(p.ack.p99)}  deliver p50 ${fmtMs(p.deliver.p50)} p99 ${fmtMs(p.deliver.p99)}  ` +
    `CPU/msg ${perMsg} (client ${client} ms)  client lag p99 ${fmtMs(p.clientLag.p99)}` +
    `${(p.clientLag.p99 ?? 0) > CLIENT_LAG_WARN_MS ? ' (THE CLIENT FELL BEHIND ITS SCHEDULE)' : ''}${refused}${unacked}`
  );
}

export interface StoredCheck {
  /** Rooms read back through the history API. */
  rooms: number;
  /** Messages of this run found in the store. */
  messages: number;
  problems: string[];
}

/**
 * Reads every room back through the history API (`after=baseline`, pages of 100) and checks that
 * the store holds seqs baseline+1 … last, each once, each the message the run's ack said.
 */
export async function checkStored(s: ChatSession): Promise<StoredCheck> {
  const expected = s.load.roomLastSeqs();
  const problems: string[] = [];
  let messages = 0;
  await pool(s.rooms, 4, async (room, i) => {
    const token = s.accounts[room.members[0] as number]?.token as string;
    const want = expected[i] as { last: number };
    let after = room.baseline;
    for (;;) {
      const page = await s.api.call<{ messages: Message[] }>(
        'GET',
        `/api/v1/rooms/${room.id}/messages?after=${after}&limit=100`,
        { token },
      );
      for (const m of page.messages) {
        if (m.seq !== after + 1) {
          problems.push(`room ${room.id}: seq ${m.seq} after ${after}`);
          break;
        }
        after = m.seq;
        messages++;
      }
      if (page.messages.length < 100) break;
    }
    if (after !== want.last)
      problems.push(`room ${room.id}: store ends at ${after}, acks at ${want.last}`);
  });
  return { rooms: s.rooms.length, messages, problems };
}

export interface SessionEnd {
  drained: boolean;
  /**
   * Idle CPU ms per second per process, before the load and after the drain; `used` is the lower
   * of the two, what each phase's perMessageAboveIdleMs subtracts (a service busy with someone
   * else's work during one reading does not inflate the correction).
   */
  idleCpuPerSecond: {
    before: Record<string, number>;
    after: Record<string, number>;
    used: Record<string, number>;
  };
  verification: Verification;
  stored: StoredCheck;
  search: {
    /** Rooms whose last message the search API found (and why not, for the first few). */
    lastMessageFound: { rooms: number; found: number; errors: string[] };
    /** ms from the last ack until the search API found every room's last message (null: not within the wait). */
    lastMessageFoundAfterLastAckMs: number | null;
    /** Real stack: documents of the run's rooms in Elasticsearch at the end, and the stored count. */
    indexed?: number;
    storedTotal: number;
    /** Real stack: ms from the last ack until the index held every stored message (null: not within the drain). */
    allIndexedAfterLastAckMs?: number | null;
    lag?: IndexLag;
  };
}

/**
 * Waits up to `drainMs` for everything sent to be acked and delivered, checks the run, and closes
 * the sockets. Throws nothing on a failed check: the caller records the result and exits non-zero.
 */
export async function closeChatSession(s: ChatSession, drainMs: number): Promise<SessionEnd> {
  say(`draining (up to ${drainMs / 1000} s)…`);
  const drained = await s.load.settle(undefined, drainMs);
  const verification = s.load.verify();
  const after = await idleCpu(s.procs, 3000);
  const used = Object.fromEntries(
    Object.entries(s.idleCpuPerSecond).map(([k, v]) => [k, Math.min(v, after[k] ?? v)]),
  );
  for (const p of s.phases)
    p.cpu.perMessageAboveIdleMs = aboveIdle(p.cpu.totalCpuMs, p.cpu.wallMs, p.stored, used);
  const stored = await checkStored(s);
  const lastSeqs = s.load.roomLastSeqs();
  const storedTotal = lastSeqs.reduce((n, r) => n + r.stored, 0);
  const bodies = s.load.lastBodies();
  const search: SessionEnd['search'] = {
    lastMessageFound: { rooms: 0, found: 0, errors: [] },
    lastMessageFoundAfterLastAckMs: null,
    storedTotal,
  };
  if (s.index) {
    const lastAck = s.load.ackTimes.at(-1) ?? performance.now();
    const reachedAt = await s.index.waitFor(storedTotal, Math.max(5000, drainMs / 2));
    s.index.stop();
    search.indexed = s.index.samples.at(-1)?.count ?? 0;
    search.allIndexedAfterLastAckMs =
      reachedAt === undefined ? null : Math.round(reachedAt - lastAck);
    search.lag = indexingLag(s.load.ackTimes, s.index.samples);
  }
  // The index runs behind the store (Elasticsearch refreshes each second; the embedded mode's
  // memory index is fed by the bus and falls behind under load): ask again until found or timeout.
  const probe = () =>
    lastMessagesSearchable(
      s.api,
      s.rooms.map((r, i) => ({
        id: r.id,
        token: s.accounts[r.members[0] as number]?.token as string,
        last: lastSeqs[i]?.last ?? 0,
        body: bodies[i],
      })),
    );
  const lastAckAt = s.load.ackTimes.at(-1) ?? performance.now();
  const searchDeadline = performance.now() + Math.max(10_000, drainMs / 2);
  for (;;) {
    search.lastMessageFound = await probe();
    if (search.lastMessageFound.found === search.lastMessageFound.rooms) {
      search.lastMessageFoundAfterLastAckMs = Math.round(performance.now() - lastAckAt);
      break;
    }
    if (performance.now() > searchDeadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  s.load.close();
  const end: SessionEnd = {
    drained,
    idleCpuPerSecond: { before: s.idleCpuPerSecond, after, used },
    verification,
    stored,
    search,
  };
  const problems = endProblems(end);
  say(
    `checked: ${verification.stored} stored, ${verification.refused} refused, ${stored.messages} read back from the store, ` +
      `last message found by search in ${search.lastMessageFound.found}/${search.lastMessageFound.rooms} rooms` +
      (search.lastMessageFoundAfterLastAckMs === null
        ? ''
        : ` (${fmtMs(search.lastMessageFoundAfterLastAckMs)} after the last ack)`) +
      (search.indexed === undefined ? '' : `, ${search.indexed}/${storedTotal} in Elasticsearch`) +
      ` — ${problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'no message lost or doubled'}`,
  );
  return end;
}

/** The problems of a session's end, for the record and the exit code. */
export function endProblems(end: SessionEnd): string[] {
  const out = [...end.verification.problems, ...end.stored.problems];
  if (!end.drained) out.push('the run did not drain in time');
  const f = end.search.lastMessageFound;
  if (f.found < f.rooms)
    out.push(
      `${f.rooms - f.found} rooms' last message not found by search${f.errors.length ? ` (${f.errors.join('; ')})` : ''}`,
    );
  if (end.search.indexed !== undefined && end.search.indexed < end.search.storedTotal)
    out.push(`${end.search.storedTotal - end.search.indexed} stored messages not in the index`);
  if (end.search.indexed !== undefined && end.search.indexed > end.search.storedTotal)
    out.push(
      `${end.search.indexed - end.search.storedTotal} more documents in the index than stored messages`,
    );
  return out;
}

/** The client process's own CPU ms so far (for runners that do not use a session). */
export function selfCpuMs(): number {
  return (((procCpuTicks(process.pid) ?? 0) * 1000) / TICKS_PER_SECOND) | 0;
}
