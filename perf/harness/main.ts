/**
 * The Node load harness: runs a scenario of perf/scenarios/scenarios.json against a target,
 * prints progress while it runs and writes a record (JSON, markdown, and an SVG plot for the
 * stress ramp) to perf/results/. Options override the scenario's numbers.
 *
 * Usage: tsx perf/harness/main.ts <chat|stress|http|soak> [--mode embedded|real] [--url URL] [options]
 *   chat:   --users --rooms --rate --duration --warmup --body-chars
 *   stress: --users --rooms --start-rate --step-rate --step-seconds --max-rate --knee-p99 --body-chars --warmup
 *   http:   --users --rooms --seed --rate --duration
 *   soak:   --sockets --connect-rate --hold
 *   all:    --settle (ms a phase may take to settle) --name (record name) --no-record
 *
 * @example npm run bench:stress -- --mode real --max-rate 600
 * @example npm run bench:chat -- --mode embedded --rate 100 --duration 10
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@parley/launcher/infra';
import type { ChatScenario } from '../scenarios/types';
import { commandLine, commitInfo, machineInfo, type RunRecord, writeRecord } from '../src/record';
import {
  cpuByPhaseMarkdown,
  endMarkdown,
  phasesMarkdown,
  runChat,
  runStress,
  stressPlot,
} from './chat-run';
import { httpMixMarkdown, runHttpMix } from './http-mix-run';
import { chatOverrides, num, RESULTS_DIR } from './options';
import {
  ChatScenarioSchema,
  HttpMixScenarioSchema,
  loadScenarios,
  SoakScenarioSchema,
  StressScenarioSchema,
  withOverrides,
} from './scenarios';
import { type PhaseResult, say } from './session';
import { runSoak, soakMarkdown } from './soak-run';
import { fmtMs } from './stats';
import { openTarget, type Target } from './target';

const SCRIPTS: Record<string, string> = {
  chat: 'bench:chat',
  stress: 'bench:stress',
  http: 'bench:http',
  soak: 'bench:soak',
};

/** The chat scenario's pass marks (the k6 script's thresholds), met or not: reported, not the exit code. */
function passMarks(run: PhaseResult, chat: ChatScenario): string {
  const p99 = run.deliver.p99;
  const errors = run.sent ? (run.refused + run.unacked) / run.sent : 0;
  return (
    `- pass marks: send → deliver p99 ${fmtMs(p99)} < ${chat.p99TargetMs} ms: ${p99 !== null && p99 < chat.p99TargetMs ? 'met' : 'not met'}; ` +
    `refused or unacked ${(errors * 100).toFixed(2)} % ≤ ${chat.maxErrorRate * 100} %: ${errors <= chat.maxErrorRate ? 'met' : 'not met'}`
  );
}

async function main(): Promise<number> {
  const { values: a, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      mode: { type: 'string' },
      url: { type: 'string' },
      users: { type: 'string' },
      rooms: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'body-chars': { type: 'string' },
      'start-rate': { type: 'string' },
      'step-rate': { type: 'string' },
      'step-seconds': { type: 'string' },
      'max-rate': { type: 'string' },
      'knee-p99': { type: 'string' },
      seed: { type: 'string' },
      sockets: { type: 'string' },
      'connect-rate': { type: 'string' },
      hold: { type: 'string' },
      settle: { type: 'string' },
      name: { type: 'string' },
      'no-record': { type: 'boolean', default: false },
    },
  });
  const which = positionals[0] ?? '';
  if (!(which in SCRIPTS))
    throw new Error(`which scenario? one of ${Object.keys(SCRIPTS).join(', ')}`);
  const scenarios = loadScenarios();
  const settleMs = num(a.settle, 'settle');
  const when = new Date().toISOString();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const command = commandLine(SCRIPTS[which] as string);

  // Validate the options before starting anything (only the scenario that runs).
  const chatOf = () => withOverrides(ChatScenarioSchema, scenarios.chat, chatOverrides(a));
  const stressOf = () =>
    withOverrides(StressScenarioSchema, scenarios.stress, {
      users: num(a.users, 'users'),
      rooms: num(a.rooms, 'rooms'),
      startRate: num(a['start-rate'], 'start-rate'),
      stepRate: num(a['step-rate'], 'step-rate'),
      stepSeconds: num(a['step-seconds'], 'step-seconds'),
      maxRate: num(a['max-rate'], 'max-rate'),
      kneeP99Ms: num(a['knee-p99'], 'knee-p99'),
      bodyChars: num(a['body-chars'], 'body-chars'),
    });
  const httpOf = () =>
    withOverrides(HttpMixScenarioSchema, scenarios.httpMix, {
      users: num(a.users, 'users'),
      rooms: num(a.rooms, 'rooms'),
      seedMessages: num(a.seed, 'seed'),
      ratePerSecond: num(a.rate, 'rate'),
      durationSeconds: num(a.duration, 'duration'),
    });
  const soakOf = () =>
    withOverrides(SoakScenarioSchema, scenarios.soak, {
      sockets: num(a.sockets, 'sockets'),
      connectPerSecond: num(a['connect-rate'], 'connect-rate'),
      holdSeconds: num(a.hold, 'hold'),
    });
  ({ chat: chatOf, stress: stressOf, http: httpOf, soak: soakOf })[which as 'chat']();

  let target: Target | undefined;
  const stop = async () => {
    const t = target;
    target = undefined;
    await t?.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    target = await openTarget(a);
    const base = (name: string, scenario: unknown): Omit<RunRecord, 'results'> => ({
      name: a.name ?? name,
      when,
      command,
      machine: machineInfo(),
      commit: commitInfo(REPO_ROOT),
      target: (target as Target).description,
      scenario,
      notes: [
        `load average at the start ${loadAtStart.join(' ')} (2 cores shared by every process here, the client included)`,
      ],
    });
    let record: RunRecord;
    let title: string;
    let body: string;
    let svg: string | undefined;
    let problems: string[];
    if (which === 'chat') {
      const chat = chatOf();
      const r = await runChat(target, chat, settleMs === undefined ? {} : { settleMs });
      problems = r.problems;
      record = {
        ...base(`chat-${chat.ratePerSecond}`, chat),
        results: r,
        cpu: r.run.cpu.byProcess,
      };
      title = `Chat, open loop: ${chat.users} users in ${chat.rooms} rooms at ${chat.ratePerSecond} msg/s`;
      body = [
        '## Result',
        '',
        phasesMarkdown([...(r.warmup ? [r.warmup] : []), r.run]),
        '',
        passMarks(r.run, chat),
        '',
        endMarkdown(r.end, r.problems),
        '',
        `The client (this harness) used ${r.run.cpu.clientCpuMs} ms CPU over the measured run (sending and settling, ${(r.run.cpu.wallMs / 1000).toFixed(1)} s: ${(r.run.cpu.clientCpuMs / r.run.cpu.wallMs).toFixed(2)} of a core), counted in "all".`,
      ].join('\n');
    } else if (which === 'stress') {
      const stress = stressOf();
      const warmupSeconds = num(a.warmup, 'warmup');
      const r = await runStress(target, stress, {
        ...(settleMs === undefined ? {} : { settleMs }),
        ...(warmupSeconds === undefined ? {} : { warmupSeconds }),
      });
      problems = r.problems;
      const best =
        r.steps.find((x) => x.offeredPerSecond === r.lastGood?.offeredPerSecond) ?? r.steps.at(-1);
      record = {
        ...base('stress', stress),
        results: r,
        ...(best ? { cpu: best.cpu.byProcess } : {}),
      };
      title = `Stress ramp: ${stress.users} users in ${stress.rooms} rooms, ${stress.startRate} → ${stress.maxRate} msg/s by ${stress.stepRate}`;
      svg = stressPlot(r.steps, stress, `Parley ${target.mode}: latency against offered load`);
      body = [
        '## Result',
        '',
        `- knee: ${r.knee ? `${r.knee.offeredPerSecond} msg/s offered (${r.knee.why})` : `none up to ${stress.maxRate} msg/s`}`,
        `- last step within the bounds: ${r.lastGood ? `${r.lastGood.offeredPerSecond} msg/s offered, ${r.lastGood.achievedPerSecond} achieved` : 'none'}; most achieved in a step: ${r.maxAchievedPerSecond} msg/s`,
        '',
        phasesMarkdown(r.steps),
        '',
        ...(r.end ? [endMarkdown(r.end, r.problems), ''] : []),
        '## CPU per stored message, by step',
        '',
        cpuByPhaseMarkdown(r.steps),
        '',
        `The CPU table below is of ${best ? `${best.label} (${best.offeredPerSecond}/s)` : 'no step'}.`,
      ].join('\n');
    } else if (which === 'http') {
      const http = httpOf();
      const r = await runHttpMix(target, http);
      problems = r.problems;
      record = { ...base(`http-${http.ratePerSecond}`, http), results: r, cpu: r.cpu.byProcess };
      title = `HTTP API mix at ${http.ratePerSecond} requests/s`;
      body = httpMixMarkdown(r);
    } else {
      const soak = soakOf();
      const r = await runSoak(target, soak);
      problems = r.problems;
      record = { ...base(`soak-${soak.sockets}`, soak), results: r, cpu: r.cpu.connect.byProcess };
      title = `Connection soak: ${soak.sockets} sockets held ${soak.holdSeconds} s`;
      body = soakMarkdown(r);
    }
    if (!a['no-record']) {
      const files = writeRecord(RESULTS_DIR, record, { title, body, ...(svg ? { svg } : {}) });
      say(`recorded ${files.md}${files.svg ? ` and ${files.svg}` : ''}`);
    }
    if (problems.length) {
      say(`FAILED: ${problems.join('; ')}`);
      return 1;
    }
    return 0;
  } finally {
    await stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(2);
    },
  );
}
