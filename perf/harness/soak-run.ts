/**
 * The connection soak (scenario `soak`): `sockets` WebSockets opened at `connectPerSecond` (each
 * handshake started on its schedule), held `holdSeconds` while the server pings them (the `ws`
 * client answers), and every one that failed its handshake or was dropped counted. Users hold many
 * sockets each (a started target allows it), client addresses spread over 127.0.0.x. Reports the
 * handshake latency (to `ready`), the server processes' memory per socket and CPU.
 */
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import type { SoakScenario } from '../scenarios/types';
import { Api } from '../src/client';
import { CpuMeter, procRssBytes } from '../src/proc-cpu';
import { type CpuRow, markdownTable } from '../src/record';
import { say } from './session';
import { connectSocket, localAddressFor, signupMany } from './setup';
import { fmtMs, Latency, type LatencySummary } from './stats';
import type { Target } from './target';

export interface SoakResult {
  setupSeconds: number;
  users: number;
  socketsPerUser: number;
  clientAddresses: number;
  attempted: number;
  connected: number;
  failed: number;
  failures: Record<string, number>;
  dropped: number;
  dropCodes: Record<string, number>;
  connectSeconds: number;
  handshakesPerSecond: number;
  handshake: LatencySummary;
  /** Server-side processes (the embedded process, the gateways): RSS before, with every socket open, per socket. */
  memory: { name: string; beforeBytes: number; openBytes: number; perSocketBytes: number }[];
  cpu: {
    connect: { totalCpuMs: number; byProcess: CpuRow[] };
    hold: { totalCpuMs: number; perSocketSecondMs: number; byProcess: CpuRow[] };
  };
  errorRate: number;
  passed: boolean;
  problems: string[];
}

const rows = (cpuMs: Record<string, number>, per?: number): CpuRow[] =>
  Object.entries(cpuMs)
    .map(([name, ms]) => ({
      name,
      cpuMs: Math.round(ms),
      ...(per ? { perUnitMs: Math.round((ms / per) * 1000) / 1000 } : {}),
    }))
    .sort((a, b) => b.cpuMs - a.cpuMs);

export async function runSoak(target: Target, s: SoakScenario): Promise<SoakResult> {
  const started = performance.now();
  const api = new Api(target.url);
  const perUser = Math.min(target.socketsPerUser, 100);
  const users = Math.ceil(s.sockets / perUser);
  const perAddress = 250;
  const run = randomBytes(3).toString('hex');
  say(`setup: ${users} users for ${s.sockets} sockets (${perUser} each)…`);
  const accounts = await signupMany(api, users, `sk${run}`);
  const setupSeconds = Math.round((performance.now() - started) / 100) / 10;
  const procs = [...target.procs(), { name: 'client (this harness)', pid: process.pid }];
  const servers = target
    .procs()
    .filter((p) => p.name === 'embedded' || p.name.startsWith('connection-gateway'));
  const before = new Map(servers.map((p) => [p.name, procRssBytes(p.pid) ?? 0]));

  const sockets: WebSocket[] = [];
  const failures = new Map<string, number>();
  const dropCodes = new Map<string, number>();
  let dropped = 0;
  let holding = false;
  const hs = new Latency();
  say(`connecting ${s.sockets} sockets at ${s.connectPerSecond}/s…`);
  const connectMeter = new CpuMeter(procs).start();
  const t0 = performance.now();
  const interval = 1000 / s.connectPerSecond;
  const pending = new Set<Promise<void>>();
  let started_ = 0;
  let nextReport = t0 + 2000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(s.sockets, Math.floor((now - t0) / interval) + 1);
      while (started_ < due) {
        const i = started_++;
        const acc = accounts[Math.floor(i / perUser)];
        const begin = performance.now();
        const p = connectSocket(
          api.wsUrl(),
          acc?.token as string,
          localAddressFor(i, perAddress),
          60_000,
        )
          .then((ws) => {
            hs.record(performance.now() - begin);
            sockets.push(ws);
            ws.on('close', (code: number) => {
              if (!holding) return;
              dropped++;
              dropCodes.set(String(code), (dropCodes.get(String(code)) ?? 0) + 1);
            });
          })
          .catch((err: Error & { status?: number }) => {
            const why = err.status !== undefined ? `HTTP ${err.status}` : err.message.slice(0, 60);
            failures.set(why, (failures.get(why) ?? 0) + 1);
          })
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      if (now >= nextReport) {
        nextReport += 2000;
        say(
          `  ${Math.round((now - t0) / 1000)} s: ${sockets.length} open, ${pending.size} handshaking, ${[...failures.values()].reduce((a, b) => a + b, 0)} failed`,
        );
      }
      if (started_ >= s.sockets) return resolve();
      setTimeout(tick, Math.max(0, t0 + started_ * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(pending);
  const connectSeconds = (performance.now() - t0) / 1000;
  const connectCpu = connectMeter.read();
  holding = true;
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  say(
    `${sockets.length} open in ${connectSeconds.toFixed(1)} s (${failed} failed); holding ${s.holdSeconds} s…`,
  );
  // Memory with every socket open, after a few seconds for the server to settle.
  await new Promise((r) => setTimeout(r, Math.min(5000, s.holdSeconds * 500)));
  const memory = servers.map((p) => {
    const b = before.get(p.name) ?? 0;
    const open = procRssBytes(p.pid) ?? 0;
    return {
      name: p.name,
      beforeBytes: b,
      openBytes: open,
      perSocketBytes: sockets.length ? Math.round((open - b) / sockets.length) : 0,
    };
  });
  const holdMeter = new CpuMeter(procs).start();
  const holdEnd = performance.now() + s.holdSeconds * 1000;
  while (holdEnd - performance.now() > 50) {
    await new Promise((r) => setTimeout(r, Math.min(10_000, holdEnd - performance.now())));
    say(`  holding: ${sockets.length - dropped} open, ${dropped} dropped`);
  }
  const holdCpu = holdMeter.read();
  holding = false;
  for (const ws of sockets) ws.terminate();
  const errorRate = (failed + dropped) / s.sockets;
  const problems: string[] = [];
  if (errorRate > s.maxErrorRate)
    problems.push(
      `${failed} failed and ${dropped} dropped of ${s.sockets}: ${(errorRate * 100).toFixed(2)} % over the scenario's ${s.maxErrorRate * 100} %`,
    );
  const socketSeconds = sockets.length * (holdCpu.wallMs / 1000);
  return {
    setupSeconds,
    users,
    socketsPerUser: perUser,
    clientAddresses: Math.ceil(s.sockets / perAddress),
    attempted: s.sockets,
    connected: sockets.length,
    failed,
    failures: Object.fromEntries(failures),
    dropped,
    dropCodes: Object.fromEntries(dropCodes),
    connectSeconds: Math.round(connectSeconds * 10) / 10,
    handshakesPerSecond: Math.round(sockets.length / connectSeconds),
    handshake: hs.summary(),
    memory,
    cpu: {
      connect: {
        totalCpuMs: Math.round(connectCpu.totalCpuMs),
        byProcess: rows(connectCpu.cpuMs, sockets.length),
      },
      hold: {
        totalCpuMs: Math.round(holdCpu.totalCpuMs),
        perSocketSecondMs: socketSeconds
          ? Math.round((holdCpu.totalCpuMs / socketSeconds) * 10000) / 10000
          : 0,
        byProcess: rows(holdCpu.cpuMs),
      },
    },
    errorRate,
    passed: problems.length === 0,
    problems,
  };
}

export function soakMarkdown(r: SoakResult): string {
  return [
    '## Result',
    '',
    `- ${r.connected}/${r.attempted} sockets open in ${r.connectSeconds} s (${r.handshakesPerSecond}/s achieved); ${r.failed} failed ${JSON.stringify(r.failures)}; ${r.dropped} dropped while held ${JSON.stringify(r.dropCodes)}: **${r.passed ? 'passed' : `FAILED: ${r.problems.join('; ')}`}**`,
    `- handshake (to \`ready\`) p50 ${fmtMs(r.handshake.p50)}, p90 ${fmtMs(r.handshake.p90)}, p99 ${fmtMs(r.handshake.p99)}, max ${fmtMs(r.handshake.max)}`,
    `- ${r.users} users × ${r.socketsPerUser} sockets, from ${r.clientAddresses} client addresses (127.0.0.x); setup ${r.setupSeconds} s`,
    `- CPU while connecting: ${r.cpu.connect.totalCpuMs} ms over every process; while holding: ${r.cpu.hold.totalCpuMs} ms (${r.cpu.hold.perSocketSecondMs} ms per socket-second)`,
    '',
    markdownTable(
      ['server process', 'RSS before', 'RSS with the sockets open', 'per socket'],
      r.memory.map((m) => [
        m.name,
        `${(m.beforeBytes / 2 ** 20).toFixed(1)} MiB`,
        `${(m.openBytes / 2 ** 20).toFixed(1)} MiB`,
        `${(m.perSocketBytes / 1024).toFixed(1)} KiB`,
      ]),
    ),
    '',
    '### CPU while connecting (ms per socket)',
    '',
    markdownTable(
      ['process', 'CPU ms', 'per socket'],
      r.cpu.connect.byProcess.map((x) => [x.name, x.cpuMs, x.perUnitMs ?? '']),
    ),
  ].join('\n');
}
