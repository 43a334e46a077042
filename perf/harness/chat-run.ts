/**
 * The chat scenario and the stress ramp, as functions a command (main.ts, bench.ts) calls:
 * each returns plain data for the record, and prints progress while it runs.
 */
import type { ChatScenario, StressScenario } from '../scenarios/types';
import { type PlotSeries, plotSvg } from '../src/plot-svg';
import { markdownTable } from '../src/record';
import {
  type ChatSession,
  CLIENT_LAG_WARN_MS,
  closeChatSession,
  endProblems,
  measurePhase,
  openChatSession,
  type PhaseResult,
  phaseLine,
  type SessionEnd,
  say,
} from './session';
import { fmtMs } from './stats';
import type { Target } from './target';

export interface ChatRunResult {
  setupSeconds: number;
  idleCpuPerSecond: Record<string, number>;
  warmup?: PhaseResult;
  run: PhaseResult;
  end: SessionEnd;
  problems: string[];
}

/** Time a phase may take after its sending ends for its messages to be acked and delivered. */
export const DEFAULT_SETTLE_MS = 5000;

/** The chat scenario: a warm-up, then `durationSeconds` at `ratePerSecond` (open loop), then the checks. */
export async function runChat(
  target: Target,
  scenario: ChatScenario,
  opts: { settleMs?: number; drainMs?: number; session?: ChatSession } = {},
): Promise<ChatRunResult> {
  const s = opts.session ?? (await openChatSession(target, scenario));
  let warmup: PhaseResult | undefined;
  if (scenario.warmupSeconds > 0) {
    warmup = await measurePhase(
      s,
      'warm-up',
      scenario.ratePerSecond,
      scenario.warmupSeconds,
      opts.settleMs ?? DEFAULT_SETTLE_MS,
    );
    say(phaseLine(warmup));
  }
  say(`measuring ${scenario.durationSeconds} s at ${scenario.ratePerSecond} msg/s…`);
  const run = await measurePhase(
    s,
    `${scenario.ratePerSecond}/s`,
    scenario.ratePerSecond,
    scenario.durationSeconds,
    opts.settleMs ?? 30_000,
  );
  say(phaseLine(run));
  const end = opts.session ? undefined : await closeChatSession(s, opts.drainMs ?? 60_000);
  return {
    setupSeconds: s.setupSeconds,
    idleCpuPerSecond: s.idleCpuPerSecond,
    ...(warmup ? { warmup } : {}),
    run,
    end: end as SessionEnd,
    problems: end ? endProblems(end) : [],
  };
}

export interface StressResult {
  setupSeconds: number;
  idleCpuPerSecond: Record<string, number>;
  steps: PhaseResult[];
  /** The first step past the knee (achieved below the ratio, p99 over the bound, or not settled). */
  knee: { offeredPerSecond: number; why: string } | null;
  /** The highest offered rate that met both rules, and what it achieved. */
  lastGood: { offeredPerSecond: number; achievedPerSecond: number } | null;
  maxAchievedPerSecond: number;
  end?: SessionEnd;
  problems: string[];
}

/** Why a step is past the knee, or undefined if it is not. */
export function kneeReason(step: PhaseResult, scenario: StressScenario): string | undefined {
  const why: string[] = [];
  if (step.achievedPerSecond < scenario.kneeAchievedRatio * step.offeredPerSecond)
    why.push(`achieved ${step.achievedPerSecond}/s < ${scenario.kneeAchievedRatio} × offered`);
  const p99 = step.deliver.p99;
  if (p99 === null || p99 > scenario.kneeP99Ms)
    why.push(`deliver p99 ${fmtMs(p99)} > ${scenario.kneeP99Ms} ms`);
  if (!step.settled) why.push(`not settled (${step.unacked} unacked)`);
  return why.length ? why.join('; ') : undefined;
}

/**
 * The stress ramp: after a short warm-up, steps of `stepSeconds` from `startRate` up by `stepRate`
 * (each settled before the next, so a step starts from an empty queue) until the knee or `maxRate`.
 */
export async function runStress(
  target: Target,
  scenario: StressScenario,
  opts: { warmupSeconds?: number; settleMs?: number; drainMs?: number; session?: ChatSession } = {},
): Promise<StressResult> {
  const s = opts.session ?? (await openChatSession(target, scenario));
  const settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
  const warm = opts.warmupSeconds ?? 3;
  if (warm > 0) {
    const w = await measurePhase(s, 'warm-up', scenario.startRate, warm, settleMs);
    say(phaseLine(w));
  }
  const steps: PhaseResult[] = [];
  let knee: StressResult['knee'] = null;
  let lastGood: StressResult['lastGood'] = null;
  for (let rate = scenario.startRate; rate <= scenario.maxRate; rate += scenario.stepRate) {
    const step = await measurePhase(
      s,
      `step ${steps.length + 1}`,
      rate,
      scenario.stepSeconds,
      settleMs,
    );
    steps.push(step);
    say(phaseLine(step));
    const why = kneeReason(step, scenario);
    if (why) {
      knee = { offeredPerSecond: rate, why };
      say(`knee at ${rate}/s offered: ${why}`);
      break;
    }
    lastGood = { offeredPerSecond: rate, achievedPerSecond: step.achievedPerSecond };
  }
  if (!knee) say(`no knee up to ${scenario.maxRate}/s offered`);
  const end = opts.session ? undefined : await closeChatSession(s, opts.drainMs ?? 60_000);
  return {
    setupSeconds: s.setupSeconds,
    idleCpuPerSecond: s.idleCpuPerSecond,
    steps,
    knee,
    lastGood,
    maxAchievedPerSecond: Math.max(0, ...steps.map((x) => x.achievedPerSecond)),
    ...(end ? { end } : {}),
    problems: end ? endProblems(end) : [],
  };
}

/** Latency percentiles (ack dashed, deliver solid) against offered load, one point per step. */
export function stressPlot(steps: PhaseResult[], scenario: StressScenario, title: string): string {
  const colors = { p50: '#1f77b4', p90: '#ff7f0e', p99: '#d62728' };
  const series: PlotSeries[] = [];
  for (const kind of ['deliver', 'ack'] as const)
    for (const p of ['p50', 'p90', 'p99'] as const)
      series.push({
        name: `${kind === 'deliver' ? 'send → deliver' : 'send → ack'} ${p}`,
        dashed: kind === 'ack',
        color: colors[p],
        points: steps.map((x) => [x.offeredPerSecond, x[kind][p] ?? Number.NaN]),
      });
  return plotSvg({
    title,
    xLabel: 'offered load (messages per second, open loop)',
    yLabel: 'latency (ms)',
    series,
    yMarker: { value: scenario.kneeP99Ms, label: `knee bound: p99 ${scenario.kneeP99Ms} ms` },
  });
}

/** The per-step table of a ramp (or any list of phases). */
export function phasesMarkdown(phases: PhaseResult[]): string {
  return markdownTable(
    [
      'phase',
      'offered/s',
      'achieved/s',
      'stored',
      'refused',
      'ack p50',
      'ack p99',
      'deliver p50',
      'deliver p90',
      'deliver p99',
      'deliver max',
      'CPU ms/msg (all)',
      'above idle',
      'client CPU ms/msg',
      'client lag p99',
    ],
    phases.map((p) => [
      p.label,
      p.offeredPerSecond,
      p.achievedPerSecond,
      p.stored,
      p.refused,
      fmtMs(p.ack.p50),
      fmtMs(p.ack.p99),
      fmtMs(p.deliver.p50),
      fmtMs(p.deliver.p90),
      fmtMs(p.deliver.p99),
      fmtMs(p.deliver.max),
      p.cpu.perMessageMs === null ? '–' : p.cpu.perMessageMs.toFixed(2),
      p.cpu.perMessageAboveIdleMs === null ? '–' : p.cpu.perMessageAboveIdleMs.toFixed(2),
      p.stored ? (p.cpu.clientCpuMs / p.stored).toFixed(3) : '–',
      `${fmtMs(p.clientLag.p99)}${(p.clientLag.p99 ?? 0) > CLIENT_LAG_WARN_MS ? ' (client behind)' : ''}`,
    ]),
  );
}

/** The checks at the end of a session, for the markdown. */
export function endMarkdown(end: SessionEnd, problems: string[]): string {
  const v = end.verification;
  const s = end.search;
  const lines = [
    `- correctness: **${problems.length === 0 ? 'passed' : `FAILED: ${problems.join('; ')}`}**`,
    `- sends ${v.sent}, stored (acked) ${v.stored}, refused ${v.refused}, never acked ${v.unacked}; duplicate acks ${v.duplicateAcks}; seq collisions ${v.seqCollisions}, holes ${v.seqHoles}`,
    `- deliveries: seqs shown twice ${v.duplicateDeliveries}, never shown ${v.missingDeliveries}, out of order ${v.outOfOrder}; sockets closed by the server ${v.socketsClosed}`,
    `- message store read back (history API): ${end.stored.messages} messages in ${end.stored.rooms} rooms, ${end.stored.problems.length ? end.stored.problems.slice(0, 5).join('; ') : 'every seq once, none missing'}`,
    `- search: the last message of ${s.lastMessageFound.found}/${s.lastMessageFound.rooms} rooms found by the search API${s.lastMessageFoundAfterLastAckMs === null ? '' : ` (all of them by ${fmtMs(s.lastMessageFoundAfterLastAckMs)} after the last ack, asked once a second)`}`,
  ];
  if (s.indexed !== undefined)
    lines.push(
      `- Elasticsearch: ${s.indexed} documents for ${s.storedTotal} stored messages; all indexed ${s.allIndexedAfterLastAckMs === null ? 'NOT within the drain' : `${fmtMs(s.allIndexedAfterLastAckMs ?? null)} after the last ack`}; indexing lag while the run went on p50 ${fmtMs(s.lag?.p50Ms ?? null)}, max ${fmtMs(s.lag?.maxMs ?? null)} (${s.lag?.readings ?? 0} readings, once a second; the index refreshes every second)`,
    );
  lines.push(
    '',
    '### Idle CPU (what "above idle" subtracts)',
    '',
    idleMarkdown(end.idleCpuPerSecond),
  );
  return lines.join('\n');
}

/** Idle CPU per process (ms per second), before the load and after the drain. */
export function idleMarkdown(idle: SessionEnd['idleCpuPerSecond']): string {
  const rows = Object.entries(idle.before).sort((a, b) => b[1] - a[1]);
  return markdownTable(
    ['process', 'idle CPU ms/s before', 'after', 'subtracted ("above idle")'],
    rows.map(([n, v]) => [n, v, idle.after[n] ?? '–', idle.used[n] ?? '–']),
  );
}

/** CPU ms per stored message of each process, one column per phase. */
export function cpuByPhaseMarkdown(phases: PhaseResult[]): string {
  const names = [...new Set(phases.flatMap((p) => p.cpu.byProcess.map((r) => r.name)))];
  const total = (n: string) =>
    phases.reduce((s, p) => s + (p.cpu.byProcess.find((r) => r.name === n)?.cpuMs ?? 0), 0);
  names.sort((a, b) => total(b) - total(a));
  const cell = (p: PhaseResult, n: string) => {
    const r = p.cpu.byProcess.find((x) => x.name === n);
    return r?.perUnitMs === undefined ? '–' : r.perUnitMs.toFixed(3);
  };
  return markdownTable(
    [
      'process (CPU ms per stored message)',
      ...phases.map((p) => `${p.label} (${p.offeredPerSecond}/s)`),
    ],
    [
      ...names.map((n) => [n, ...phases.map((p) => cell(p, n))]),
      [
        '**all**',
        ...phases.map((p) =>
          p.cpu.perMessageMs === null ? '–' : `**${p.cpu.perMessageMs.toFixed(3)}**`,
        ),
      ],
      ...(['parley', 'services', 'client'] as const).map((g) => [
        {
          parley: 'Parley’s processes',
          services: 'services (MariaDB, Redis, Kafka, Elasticsearch)',
          client: 'the client',
        }[g],
        ...phases.map((p) => p.cpu.perMessageByGroupMs?.[g].toFixed(3) ?? '–'),
      ]),
      [
        'all, less the idle burn',
        ...phases.map((p) =>
          p.cpu.perMessageAboveIdleMs === null ? '–' : p.cpu.perMessageAboveIdleMs.toFixed(3),
        ),
      ],
    ],
  );
}
