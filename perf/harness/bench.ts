/**
 * `npm run bench`: the standard set, in a few minutes, on the real stack by default.
 *
 * 1. The stress ramp (scenario `stress`) up to the knee: latency percentiles against offered load.
 * 2. An open-loop run at a fixed rate (default 500 msg/s, the issue's p99 target) with the CPU of
 *    every process per stored message, on the same users, rooms and sockets.
 * 3. The drain and the checks: nothing lost or doubled (what members saw, what the store holds),
 *    the messages searchable (and, on the real stack, how far the index ran behind).
 * 4. Parley's gateway beside Centrifugo (perf/bench/peer: fan-out, handshakes, idle memory) with
 *    modest socket counts, after the stack has stopped.
 *
 * One record: perf/results/<date>-bench.{json,md,svg}.
 *
 * Usage: npm run bench -- [--mode real|embedded] [--url URL] [--rate 500] [--duration 20]
 *   [--start-rate N] [--step-rate N] [--max-rate N] [--step-seconds S] [--users N] [--rooms N] [--peer-scale 0.2] [--no-peer] [--name bench] [--no-record]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@parley/launcher/infra';
import type { PeerResult } from '../bench/peer/run';
import { commandLine, commitInfo, machineInfo, type RunRecord, writeRecord } from '../src/record';
import {
  cpuByPhaseMarkdown,
  endMarkdown,
  phasesMarkdown,
  runChat,
  runStress,
  stressPlot,
} from './chat-run';
import { num, RESULTS_DIR } from './options';
import {
  ChatScenarioSchema,
  loadScenarios,
  StressScenarioSchema,
  withOverrides,
} from './scenarios';
import { closeChatSession, endProblems, openChatSession, say } from './session';
import { fmtMs } from './stats';
import { openTarget, type Target } from './target';

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string', default: 'real' },
    url: { type: 'string' },
    rate: { type: 'string', default: '500' },
    duration: { type: 'string', default: '20' },
    'start-rate': { type: 'string' },
    'step-rate': { type: 'string' },
    'max-rate': { type: 'string' },
    users: { type: 'string' },
    rooms: { type: 'string' },
    'step-seconds': { type: 'string' },
    'peer-scale': { type: 'string', default: '0.2' },
    'no-peer': { type: 'boolean', default: false },
    name: { type: 'string', default: 'bench' },
    'no-record': { type: 'boolean', default: false },
  },
});

const scenarios = loadScenarios();
const stress = withOverrides(StressScenarioSchema, scenarios.stress, {
  startRate: num(a['start-rate'], 'start-rate'),
  stepRate: num(a['step-rate'], 'step-rate'),
  maxRate: num(a['max-rate'], 'max-rate'),
  users: num(a.users, 'users'),
  rooms: num(a.rooms, 'rooms'),
  stepSeconds: num(a['step-seconds'], 'step-seconds'),
});
// The fixed-rate run uses the ramp's users and rooms (one setup for both).
const fixed = withOverrides(ChatScenarioSchema, scenarios.chat, {
  users: stress.users,
  rooms: stress.rooms,
  bodyChars: stress.bodyChars,
  ratePerSecond: num(a.rate, 'rate'),
  durationSeconds: num(a.duration, 'duration'),
  warmupSeconds: 0,
});
const peerScale = num(a['peer-scale'], 'peer-scale') as number;
/** Seconds of backlog the fixed-rate run may leave at the ramp's best rate. */
const DRAIN_BUDGET_S = 45;
const when = new Date().toISOString();
const command = commandLine('bench');
const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
const started = performance.now();

let target: Target | undefined;
process.once('SIGINT', () => {
  void (target?.stop() ?? Promise.resolve()).then(() => process.exit(130));
});
let exitCode = 0;
try {
  target = await openTarget(a);
  const targetDescription = target.description;
  const session = await openChatSession(target, stress);
  say(
    `— 1. stress ramp ${stress.startRate} → ${stress.maxRate} msg/s by ${stress.stepRate}, ${stress.stepSeconds} s a step`,
  );
  const ramp = await runStress(target, stress, { session });
  say('— waiting for the ramp to drain…');
  const rampDrained = await session.load.settle(undefined, 90_000);
  // Past the knee, a fixed-rate run leaves a backlog the stack drains at what it can do: keep it
  // to what drains in about DRAIN_BUDGET_S at the ramp's best rate, so the set stays a few minutes.
  const drainable = Math.max(2, (DRAIN_BUDGET_S * ramp.maxAchievedPerSecond) / fixed.ratePerSecond);
  const fixedRun =
    drainable < fixed.durationSeconds
      ? { ...fixed, durationSeconds: Math.round(drainable * 10) / 10 }
      : fixed;
  if (fixedRun !== fixed)
    say(
      `— the ramp's best was ${ramp.maxAchievedPerSecond} msg/s: the fixed-rate run is shortened to ${fixedRun.durationSeconds} s`,
    );
  say(`— 2. open loop at ${fixedRun.ratePerSecond} msg/s for ${fixedRun.durationSeconds} s`);
  const run = await runChat(target, fixedRun, { session, settleMs: 60_000 });
  const end = await closeChatSession(session, 90_000);
  const problems = endProblems(end);
  if (!rampDrained) problems.push('the ramp did not drain in 90 s');
  await target.stop();
  target = undefined;

  let peer: PeerResult | undefined;
  let peerError: string | undefined;
  if (!a['no-peer']) {
    say(`— 3. Parley's gateway beside Centrifugo (scale ${peerScale})`);
    try {
      const { runPeer } = await import('../bench/peer/run');
      peer = await runPeer({
        scenarios: ['fanout', 'handshakes', 'idle'],
        scale: peerScale,
        command,
        progress: say,
      });
    } catch (err) {
      peerError = err instanceof Error ? err.message : String(err);
      say(`peer comparison failed: ${peerError}`);
    }
  }

  const seconds = Math.round((performance.now() - started) / 1000);
  const rampLine = ramp.knee
    ? `knee at ${ramp.knee.offeredPerSecond} msg/s offered (${ramp.knee.why}); last step within the bounds ${ramp.lastGood ? `${ramp.lastGood.offeredPerSecond} msg/s` : 'none'}`
    : `no knee up to ${stress.maxRate} msg/s`;
  const r = run.run;
  say(`— ${rampLine}`);
  say(
    `— ${fixed.ratePerSecond} msg/s: achieved ${r.achievedPerSecond}/s, deliver p99 ${fmtMs(r.deliver.p99)}, CPU ${r.cpu.perMessageMs ?? '–'} ms per stored message (client ${r.stored ? (r.cpu.clientCpuMs / r.stored).toFixed(2) : '–'})`,
  );
  const record: RunRecord = {
    name: a.name ?? 'bench',
    when,
    command,
    machine: machineInfo(),
    commit: commitInfo(REPO_ROOT),
    target: targetDescription,
    scenario: { stress, fixed: fixedRun, peer: peer?.scenarios ?? { scale: peerScale } },
    results: {
      seconds,
      stress: ramp,
      fixed: run.run,
      end,
      problems,
      ...(peer ? { peer } : {}),
      ...(peerError ? { peerError } : {}),
    },
    cpu: r.cpu.byProcess,
    notes: [
      `load average at the start ${loadAtStart.join(' ')} (2 cores shared by every process here, the client included); took ${seconds} s`,
    ],
  };
  const fixedTarget = scenarios.chat.p99TargetMs;
  const body = [
    '## Summary',
    '',
    `- stress ramp: ${rampLine}; most achieved in a step ${ramp.maxAchievedPerSecond} msg/s`,
    `- open loop at ${fixed.ratePerSecond} msg/s offered for ${fixedRun.durationSeconds} s${fixedRun === fixed ? '' : ` (shortened from ${fixed.durationSeconds} s: past the knee, so its backlog drains in about ${DRAIN_BUDGET_S} s at the ramp's best rate)`}: achieved ${r.achievedPerSecond}/s; send → deliver p50 ${fmtMs(r.deliver.p50)}, p99 ${fmtMs(r.deliver.p99)} (target < ${fixedTarget} ms: ${r.deliver.p99 !== null && r.deliver.p99 < fixedTarget ? 'met' : 'not met'})`,
    `- CPU per stored message in that run, every process summed: ${r.cpu.perMessageMs ?? '–'} ms (target ≤ 2 ms); Parley's processes ${r.cpu.perMessageByGroupMs?.parley.toFixed(2) ?? '–'} ms, the services under them ${r.cpu.perMessageByGroupMs?.services.toFixed(2) ?? '–'} ms, the client ${r.cpu.perMessageByGroupMs?.client.toFixed(2) ?? '–'} ms; all less the idle burn ${r.cpu.perMessageAboveIdleMs ?? '–'} ms`,
    `- the client (this harness, same cores) used ${r.cpu.clientCpuMs} ms CPU in that run (sending and settling, ${(r.cpu.wallMs / 1000).toFixed(1)} s: ${(r.cpu.clientCpuMs / Math.max(1, r.cpu.wallMs)).toFixed(2)} of a core), counted in the sums`,
    `- correctness: ${problems.length ? `**FAILED**: ${problems.join('; ')}` : 'passed (nothing lost or doubled)'}`,
    ...(peer
      ? [
          `- beside Centrifugo (scale ${peerScale}): fan-out deliveries per server CPU-second ${peer.ratios.fanoutDeliveriesPerCpuSecond ?? '–'}× Centrifugo's, p99 ${peer.ratios.fanoutP99MinusMs ?? '–'} ms over it; handshakes/s ${peer.ratios.handshakesPerSecond ?? '–'}×; memory per idle socket ${peer.ratios.kbPerIdleSocket ?? '–'}×`,
        ]
      : peerError
        ? [`- beside Centrifugo: failed (${peerError})`]
        : []),
    '',
    '## 1. Stress ramp',
    '',
    phasesMarkdown(ramp.steps),
    '',
    `## 2. Open loop at ${fixed.ratePerSecond} msg/s`,
    '',
    phasesMarkdown([r]),
    '',
    '### CPU per stored message, by phase',
    '',
    cpuByPhaseMarkdown([...ramp.steps, r]),
    '',
    '## Checks (whole session)',
    '',
    endMarkdown(end, problems),
    '',
  ];
  if (peer) {
    const { peerMarkdown } = await import('../bench/peer/report');
    // Its headings one level down, under this record's.
    body.push(
      '## 3. Beside Centrifugo',
      '',
      peerMarkdown(peer)
        .split('\n')
        .slice(1)
        .map((l) => (l.startsWith('#') ? `#${l}` : l))
        .join('\n'),
    );
  }
  if (!a['no-record']) {
    const files = writeRecord(RESULTS_DIR, record, {
      title: `The standard benchmark set (${targetDescription.split(' (')[0]})`,
      body: body.join('\n'),
      svg: stressPlot(
        ramp.steps,
        stress,
        `Parley ${a.url ? 'at a URL' : a.mode}: latency against offered load`,
      ),
    });
    say(`recorded ${files.md}`);
  }
  if (problems.length) {
    say(`FAILED: ${problems.join('; ')}`);
    exitCode = 1;
  }
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  exitCode = 2;
} finally {
  await target?.stop();
}
process.exit(exitCode);
