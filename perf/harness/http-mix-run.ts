/**
 * The HTTP API mix (scenario `httpMix`): the read side a client does besides its socket — the room
 * list, a history page, a search, the inbox — at a set rate (open loop: each request starts on its
 * schedule whatever the earlier ones did), each as a random load user, by the scenario's weights.
 * Setup seeds messages (words to search for, every other one mentioning a room-mate so inboxes are
 * not empty) and waits until search finds them.
 */

import { randomBytes } from 'node:crypto';
import type { HttpMixScenario } from '../scenarios/types';
import { type Account, Api } from '../src/client';
import { CpuMeter } from '../src/proc-cpu';
import { type CpuRow, markdownTable } from '../src/record';
import { say } from './session';
import { connectAll, createRooms, type LoadRoom, signupMany } from './setup';
import { fmtMs, Latency, type LatencySummary } from './stats';
import type { Target } from './target';

export type ReadKind = keyof HttpMixScenario['weights'];

/** Words the seeded messages are made of and the searches look for (as the k6 script's). */
export const SEARCH_WORDS = ['meeting', 'release', 'budget', 'lunch', 'deploy', 'review'] as const;

/** The kind for a draw u in [0, 1): each kind takes its weight's share, in the weights' order. */
export function kindFor(weights: HttpMixScenario['weights'], u: number): ReadKind {
  const kinds = Object.keys(weights) as ReadKind[];
  const total = kinds.reduce((s, k) => s + weights[k], 0);
  let edge = 0;
  for (const k of kinds) {
    edge += weights[k] / total;
    if (u < edge) return k;
  }
  return kinds[kinds.length - 1] as ReadKind;
}

export interface HttpMixResult {
  setupSeconds: number;
  seeded: number;
  requests: number;
  /** Started per second over the run (open loop: should equal the offered rate). */
  offeredPerSecond: number;
  completedPerSecond: number;
  failed: number;
  errorRate: number;
  statuses: Record<string, number>;
  byKind: Record<string, LatencySummary & { failed: number }>;
  all: LatencySummary;
  clientLag: LatencySummary;
  cpu: { wallMs: number; totalCpuMs: number; perRequestMs: number | null; byProcess: CpuRow[] };
  /** Pass mark of the scenario: errorRate ≤ maxErrorRate. */
  passed: boolean;
  problems: string[];
}

interface Member {
  acc: Account;
  room: LoadRoom;
}

async function seed(
  api: Api,
  accounts: Account[],
  rooms: LoadRoom[],
  total: number,
): Promise<number> {
  if (total === 0) return 0;
  const sockets = await connectAll(api.wsUrl(), accounts, { concurrency: 20 });
  const roomOf = new Map<number, LoadRoom>();
  for (const r of rooms) for (const m of r.members) roomOf.set(m, r);
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`seeding: ${acked}/${total} acked in 60 s`)),
      60_000,
    );
    for (const ws of sockets)
      ws.on('message', (data: Buffer) => {
        const f = JSON.parse(data.toString()) as { type: string; code?: string };
        if (f.type === 'ack' && ++acked === total) {
          clearTimeout(timer);
          resolve();
        } else if (f.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`seeding refused: ${data.toString()}`));
        }
      });
    for (let n = 0; n < total; n++) {
      const i = n % accounts.length;
      const room = roomOf.get(i) as LoadRoom;
      const mateIdx = room.members.find((m) => m !== i);
      const mate = mateIdx === undefined ? undefined : accounts[mateIdx];
      const w = (k: number) => SEARCH_WORDS[k % SEARCH_WORDS.length];
      const mention = mate && n % 2 === 0 ? ` @${mate.user.username}` : '';
      sockets[i]?.send(
        JSON.stringify({
          type: 'send',
          roomId: room.id,
          clientMsgId: `seed-${n}`,
          body: `seed ${n}: the ${w(n)} after the ${w(n + 1)}${mention}`,
        }),
      );
    }
  });
  for (const ws of sockets) ws.close();
  return acked;
}

/** The path of one read of `kind` as `me`. */
function readPath(kind: ReadKind, me: Member, u: number): string {
  switch (kind) {
    case 'rooms':
      return '/api/v1/rooms';
    case 'history':
      return `/api/v1/rooms/${me.room.id}/messages?limit=50`;
    case 'search':
      return `/api/v1/search?q=${SEARCH_WORDS[Math.floor(u * SEARCH_WORDS.length)] ?? SEARCH_WORDS[0]}`;
    case 'notifications':
      return '/api/v1/notifications';
  }
}

export async function runHttpMix(target: Target, s: HttpMixScenario): Promise<HttpMixResult> {
  const started = performance.now();
  const api = new Api(target.url);
  const run = randomBytes(3).toString('hex');
  say(`setup: ${s.users} users in ${s.rooms} rooms, ${s.seedMessages} seeded messages…`);
  const accounts = await signupMany(api, s.users, `hm${run}`);
  const rooms = await createRooms(api, accounts, s.rooms, `mix ${run}`);
  const seeded = await seed(api, accounts, rooms, s.seedMessages);
  const members: Member[] = [];
  for (const r of rooms)
    for (const m of r.members) members.push({ acc: accounts[m] as Account, room: r });
  // Search answers only once the seeds are indexed (Elasticsearch refreshes every second).
  const probe = members[0] as Member;
  for (let i = 0; i < 60 && s.seedMessages > 0; i++) {
    const res = await api
      .call<{ hits: unknown[] }>(
        'GET',
        `/api/v1/search?q=${SEARCH_WORDS[0]}&roomId=${probe.room.id}`,
        {
          token: probe.acc.token,
        },
      )
      .catch(() => ({ hits: [] }));
    if (res.hits.length > 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const setupSeconds = Math.round((performance.now() - started) / 100) / 10;
  say(`setup done in ${setupSeconds} s; ${s.ratePerSecond} requests/s for ${s.durationSeconds} s…`);

  const kinds = Object.keys(s.weights) as ReadKind[];
  const lat = new Map(kinds.map((k) => [k, { h: new Latency(), failed: 0 }]));
  const all = new Latency();
  const lag = new Latency();
  const statuses = new Map<string, number>();
  let failed = 0;
  let done = 0;
  const inFlight = new Set<Promise<void>>();
  const procs = [...target.procs(), { name: 'client (this harness)', pid: process.pid }];
  const meter = new CpuMeter(procs).start();
  const total = Math.round(s.ratePerSecond * s.durationSeconds);
  const interval = 1000 / s.ratePerSecond;
  const t0 = performance.now();
  let sent = 0;
  let nextReport = t0 + 5000;
  const one = async (kind: ReadKind) => {
    const me = members[Math.floor(Math.random() * members.length)] as Member;
    const start = performance.now();
    let status = 'error';
    try {
      const res = await fetch(api.baseUrl + readPath(kind, me, Math.random()), {
        headers: { authorization: `Bearer ${me.acc.token}` },
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      status = String(res.status);
    } catch {
      // counted as 'error'
    }
    const ms = performance.now() - start;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const k = lat.get(kind) as { h: Latency; failed: number };
    if (status.startsWith('2')) {
      k.h.record(ms);
      all.record(ms);
    } else {
      k.failed++;
      failed++;
    }
    done++;
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / interval) + 1);
      while (sent < due) {
        lag.record(now - (t0 + sent * interval));
        const p = one(kindFor(s.weights, Math.random())).finally(() => inFlight.delete(p));
        inFlight.add(p);
        sent++;
      }
      if (now >= nextReport) {
        nextReport += 5000;
        say(
          `  ${Math.round((now - t0) / 1000)} s: ${done} done, ${inFlight.size} in flight, ${failed} failed, p99 ${fmtMs(all.at(99))}`,
        );
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    tick();
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  await Promise.all(inFlight);
  const span = (performance.now() - t0) / 1000;
  const { wallMs, cpuMs, totalCpuMs } = meter.read();
  const byProcess = Object.entries(cpuMs)
    .map(([name, ms]) => ({
      name,
      cpuMs: Math.round(ms),
      perUnitMs: Math.round((ms / Math.max(1, done)) * 1000) / 1000,
    }))
    .sort((a, b) => b.cpuMs - a.cpuMs);
  const errorRate = total ? failed / total : 0;
  const problems: string[] = [];
  if (errorRate > s.maxErrorRate)
    problems.push(
      `error rate ${(errorRate * 100).toFixed(2)} % over the scenario's ${s.maxErrorRate * 100} %`,
    );
  const result: HttpMixResult = {
    setupSeconds,
    seeded,
    requests: total,
    offeredPerSecond: Math.round((sent / sendSeconds) * 10) / 10,
    completedPerSecond: Math.round((done / span) * 10) / 10,
    failed,
    errorRate,
    statuses: Object.fromEntries(statuses),
    byKind: Object.fromEntries(
      kinds.map((k) => {
        const v = lat.get(k) as { h: Latency; failed: number };
        return [k, { ...v.h.summary(), failed: v.failed }];
      }),
    ),
    all: all.summary(),
    clientLag: lag.summary(),
    cpu: {
      wallMs: Math.round(wallMs),
      totalCpuMs: Math.round(totalCpuMs),
      perRequestMs: done ? Math.round((totalCpuMs / done) * 1000) / 1000 : null,
      byProcess,
    },
    passed: problems.length === 0,
    problems,
  };
  say(
    `done: ${done} requests, ${failed} failed, p50 ${fmtMs(result.all.p50)} p99 ${fmtMs(result.all.p99)}, CPU ${result.cpu.perRequestMs} ms/request`,
  );
  return result;
}

export function httpMixMarkdown(r: HttpMixResult): string {
  return [
    '## Result',
    '',
    `- ${r.requests} requests offered at ${r.offeredPerSecond}/s, completed ${r.completedPerSecond}/s; failed ${r.failed} (${(r.errorRate * 100).toFixed(2)} %): **${r.passed ? 'passed' : `FAILED: ${r.problems.join('; ')}`}**`,
    `- statuses: ${JSON.stringify(r.statuses)}; ${r.seeded} messages seeded; setup ${r.setupSeconds} s`,
    `- CPU over the run: ${r.cpu.totalCpuMs} ms, ${r.cpu.perRequestMs} ms per request (every process read, the client included)`,
    '',
    markdownTable(
      ['request', 'count', 'failed', 'p50', 'p90', 'p99', 'max'],
      [
        ...Object.entries(r.byKind).map(([k, v]) => [
          k,
          v.count,
          v.failed,
          fmtMs(v.p50),
          fmtMs(v.p90),
          fmtMs(v.p99),
          fmtMs(v.max),
        ]),
        [
          'all',
          r.all.count,
          r.failed,
          fmtMs(r.all.p50),
          fmtMs(r.all.p90),
          fmtMs(r.all.p99),
          fmtMs(r.all.max),
        ],
      ],
    ),
    '',
    `Client schedule lag p99 ${fmtMs(r.clientLag.p99)} (how late requests started against the open-loop schedule).`,
  ].join('\n');
}
