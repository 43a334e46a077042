/**
 * bench:peer — Parley's connection gateway against Centrifugo v6.9.1 (memory engine), side by
 * side in one run: fan-out (deliveries per server CPU-second, publish → deliver), handshakes per
 * second, memory per idle socket, and a 10,000-member room. What each scenario does and how it is
 * measured: bench/peer/run.ts. `runPeer` is exported there for `npm run bench` (perf/harness).
 *
 * Usage: npm run bench:peer -- [--scenarios fanout,handshakes,idle,large-room]
 *   [--servers baseline,parley,centrifugo] [--scale 0.1] [--fanout-sockets N] [--rate N] [--duration S]
 *   [--handshake-sockets N] [--concurrency N] [--idle-sockets N] [--settle S]
 *   [--members N] [--messages N] [--no-unread] [--gateway-bundle path] [--baseline-bundle path]
 *   [--cpu-prof dir] [--heap-snapshot dir]
 *   [--name suffix] [--no-record] [--json]
 *
 * Needs `bash tests/infra/up` (Redis; the gateway also connects a Kafka producer, which produces
 * nothing here) and a Centrifugo binary (CENTRIFUGO_BIN, /work/tools/bin/centrifugo, or built into
 * ~/.cache/parley/centrifugo). Progress goes to stderr; the record to
 * perf/results/<date>-peer[-name].{json,md} (`--no-record`: none); `--json` prints it on stdout.
 * `--cpu-prof dir` runs the gateway with `node --cpu-prof` into that folder; `--heap-snapshot dir`
 * writes a heap snapshot of it there once its idle sockets settled (handshakes, idle). `--baseline-bundle`
 * runs another gateway bundle too (first, as `baseline`): before/after a change in one session.
 * Everything binds 127.0.0.1; the servers, the clients and the bench's Redis keys are gone when
 * it ends.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@parley/launcher/infra';
import { peerMarkdown } from './peer/report';
import {
  PEER_SCENARIOS,
  PEER_SERVERS,
  type PeerScenario,
  type PeerSide,
  runPeer,
} from './peer/run';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: PEER_SCENARIOS.join(',') },
    servers: { type: 'string' },
    scale: { type: 'string', default: '1' },
    'fanout-sockets': { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    'handshake-sockets': { type: 'string' },
    concurrency: { type: 'string' },
    'idle-sockets': { type: 'string' },
    settle: { type: 'string' },
    members: { type: 'string' },
    messages: { type: 'string' },
    'no-unread': { type: 'boolean', default: false },
    'gateway-bundle': { type: 'string' },
    'baseline-bundle': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'heap-snapshot': { type: 'string' },
    name: { type: 'string' },
    'no-record': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const list = <T extends string>(v: string, known: readonly T[], what: string): T[] => {
  const xs = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = xs.filter((x) => !known.includes(x as T));
  if (bad.length) throw new Error(`unknown ${what} ${bad.join(', ')}; known: ${known.join(', ')}`);
  return xs as T[];
};
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const defined = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

const command = `npm run bench:peer${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const cpuProf = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
if (cpuProf) mkdirSync(cpuProf, { recursive: true });
const heapDir = values['heap-snapshot'] ? resolve(values['heap-snapshot']) : undefined;
if (heapDir) mkdirSync(heapDir, { recursive: true });

const result = await runPeer({
  scenarios: list<PeerScenario>(values.scenarios, PEER_SCENARIOS, 'scenario'),
  servers: values.servers ? list<PeerSide>(values.servers, PEER_SERVERS, 'server') : undefined,
  scale: Number(values.scale),
  fanout: defined({
    sockets: num(values['fanout-sockets']),
    ratePerSecond: num(values.rate),
    durationSeconds: num(values.duration),
  }),
  handshakes: defined({
    sockets: num(values['handshake-sockets']),
    concurrency: num(values.concurrency),
  }),
  idle: defined({ sockets: num(values['idle-sockets']), settleSeconds: num(values.settle) }),
  largeRoom: defined({ members: num(values.members), messages: num(values.messages) }),
  unread: !values['no-unread'],
  gatewayBundle: values['gateway-bundle'] ? resolve(values['gateway-bundle']) : undefined,
  baselineBundle: values['baseline-bundle'] ? resolve(values['baseline-bundle']) : undefined,
  gatewayNodeArgs: cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : undefined,
  heapSnapshotDir: heapDir,
  command,
  progress: (line) => process.stderr.write(`[peer] ${line}\n`),
});

const md = peerMarkdown(result);
if (!values['no-record']) {
  const dir = join(REPO_ROOT, 'perf', 'results');
  const base = `${result.when.slice(0, 10)}-peer${values.name ? `-${values.name}` : ''}`;
  writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, `${base}.md`), md);
  process.stderr.write(`[peer] recorded perf/results/${base}.md and .json\n`);
}
if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else process.stderr.write(`\n${md}\n`);
const failed = [result.baseline, result.parley, result.centrifugo].some((r) => r?.errors?.length);
process.exit(failed ? 1 : 0);
