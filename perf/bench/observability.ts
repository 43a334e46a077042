/**
 * What tracing costs per message, and the operator's view of a load run, measured for real:
 * a real Prometheus (1 s scrapes), Alertmanager and Jaeger on loopback
 * (`@parley/launcher/observability`), and the real stack started once per tracing setting on the
 * same services (tests/infra/up), each driven with the same open-loop chat load (the harness's
 * session: a warm-up, then the measured phase, then the drain and the checks that nothing was
 * lost or doubled):
 * - `off`: no OTEL_EXPORTER_OTLP_ENDPOINT, no provider registered;
 * - a ratio (`1`, `0.1`): every process exports to the real Jaeger, OTEL_TRACES_SAMPLER_ARG=ratio.
 * Tracing is read at process start, so each setting gets a fresh stack (built once).
 *
 * For each: CPU ms per stored message per process (/proc, the harness's meter), the tools' own CPU
 * over the same phase, send → deliver p50/p99, and the spans Jaeger holds for traces that started
 * in the measured phase (read back through its query API, for the gateway's service: every
 * message's trace starts at its `send` frame). Prometheus scrapes every run; after the last, the
 * range series of the run at ratio 1 (else the first traced run) are drawn into an SVG: the
 * dashboards' queries (ops/src/queries.ts) for sent/stored rate, send → deliver p50/p99 (beside
 * the untraced run's) and consumer lag per group, and CloudEvent handle p99 per function.
 * Writes perf/results/<date>-<name>.{md,json,svg}.
 *
 * Only one real stack may run on this Kafka at a time:
 * @example flock /tmp/parley-stack.lock npm run bench:observability
 * @example flock /tmp/parley-stack.lock npm run bench:observability -- --modes off,1 --rate 80 --duration 40
 *
 * Options: --modes (default off,1,0.1) --rate (40) --duration (30) --warmup (5) --users --rooms
 * --body-chars (the chat scenario's) --settle ms (30000) --name --no-record
 * The default rate stays below the knee of this shared 2-core machine with the tools running beside
 * the stack (at 100 msg/s the untraced stack stored 58/s here, the traced one 48/s): past the knee
 * the latencies are of a growing queue and the CPU per message of a different wall time.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { bundleNode, REPO_ROOT } from '@parley/launcher/infra';
import { type Observability, startObservability, toolPaths } from '@parley/launcher/observability';
import { PANELS, promql } from '@parley/ops/queries';
import { cpuByPhaseMarkdown, endMarkdown, phasesMarkdown } from '../harness/chat-run';
import { chatOverrides, num, RESULTS_DIR } from '../harness/options';
import { ChatScenarioSchema, loadScenarios, withOverrides } from '../harness/scenarios';
import {
  closeChatSession,
  endProblems,
  measurePhase,
  openChatSession,
  type PhaseResult,
  phaseLine,
  type SessionEnd,
  say,
} from '../harness/session';
import { startRealTarget, type Target } from '../harness/target';
import type { ChatScenario } from '../scenarios/types';
import type { PlotOptions } from '../src/plot-svg';
import { CpuMeter } from '../src/proc-cpu';
import { commandLine, commitInfo, machineInfo, markdownTable, writeRecord } from '../src/record';
import {
  countSpans,
  type JaegerTrace,
  type ModeRun,
  modeCost,
  parseModes,
  type RangeSeries,
  rangeToPlotSeries,
  type SpanCount,
  stackedPlotsSvg,
  tracingCostMarkdown,
} from './observability-report';

/** The scrape interval, and the rate window of the plotted queries (≥ 4 scrapes). */
const SCRAPE_SECONDS = 1;
const RATE_WINDOW = '5s';
/** The Jaeger service whose traces are counted: every message's trace starts there. */
const ROOT_SERVICE = 'connection-gateway';

/** A mode's measured window (Unix seconds) and what the session gave, kept for the plot. */
interface ModeWindow {
  mode: string;
  /** Warm-up start, measured phase start and end (after its settle). */
  warmStartS: number;
  startS: number;
  endS: number;
  /** The whole mode: stack start, session setup, phases, checks (the stop not included). */
  elapsedSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function jaegerTraces(obs: Observability, startS: number, endS: number) {
  const params = new URLSearchParams({
    service: ROOT_SERVICE,
    start: String(Math.floor(startS * 1e6)),
    end: String(Math.ceil(endS * 1e6)),
    // Below the memory store's max_traces (100,000), which Jaeger refuses to search past.
    limit: '90000',
  });
  const res = await fetch(`${obs.jaegerQueryUrl}/api/traces?${params}`);
  if (!res.ok) throw new Error(`jaeger /api/traces: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { data: JaegerTrace[] | null };
  return body.data ?? [];
}

/** The spans Jaeger holds for traces that started in [startS, endS], once the exports stopped growing. */
async function spansOf(obs: Observability, startS: number, endS: number): Promise<SpanCount> {
  let last = countSpans([await jaegerTraces(obs, startS, endS)]);
  for (let i = 0; i < 10; i++) {
    await sleep(1000);
    const now = countSpans([await jaegerTraces(obs, startS, endS)]);
    if (now.spans === last.spans) return now;
    last = now;
  }
  return last;
}

/** One tracing setting: a fresh stack, the session, the measured phase, the checks. */
async function runMode(
  obs: Observability,
  mode: string,
  chat: ChatScenario,
  opts: { skipBuild: boolean; settleMs: number },
): Promise<{ run: ModeRun; window: ModeWindow; warmup?: PhaseResult; end: SessionEnd }> {
  const env: Record<string, string> =
    mode === 'off'
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: '' }
      : { OTEL_EXPORTER_OTLP_ENDPOINT: obs.otlpUrl, OTEL_TRACES_SAMPLER_ARG: mode };
  const began = performance.now();
  say(`— tracing ${mode === 'off' ? 'off' : `on, ratio ${mode}`}: starting the real stack…`);
  const target: Target = await startRealTarget(env, {
    verbose: false,
    skipBuild: opts.skipBuild,
  });
  try {
    if (!target.metricsUrls) throw new Error('the real target did not say where its /metrics are');
    obs.setTargets(target.metricsUrls);
    const s = await openChatSession(target, chat);
    const warmStartS = Date.now() / 1000;
    let warmup: PhaseResult | undefined;
    if (chat.warmupSeconds > 0) {
      warmup = await measurePhase(
        s,
        `warm-up (${mode})`,
        chat.ratePerSecond,
        chat.warmupSeconds,
        5000,
      );
      say(phaseLine(warmup));
    }
    const label = mode === 'off' ? 'tracing off' : `tracing ratio ${mode}`;
    const toolsMeter = new CpuMeter(
      Object.entries(obs.pids()).map(([name, pid]) => ({ name, pid })),
    ).start();
    const startS = Date.now() / 1000;
    const phase = await measurePhase(
      s,
      label,
      chat.ratePerSecond,
      chat.durationSeconds,
      opts.settleMs,
    );
    const endS = Date.now() / 1000;
    const toolsCpuMs = Object.fromEntries(
      Object.entries(toolsMeter.read().cpuMs).map(([k, v]) => [k, Math.round(v)]),
    );
    say(phaseLine(phase));
    const end = await closeChatSession(s, 30_000);
    const spans = mode === 'off' ? undefined : await spansOf(obs, startS, endS);
    if (spans)
      say(
        `Jaeger: ${spans.traces} traces, ${spans.spans} spans started in the measured phase (${phase.stored} stored)`,
      );
    return {
      run: {
        mode,
        phase,
        toolsCpuMs,
        ...(spans ? { spans } : {}),
        problems: endProblems(end),
      },
      window: {
        mode,
        warmStartS,
        startS,
        endS,
        elapsedSeconds: Math.round((performance.now() - began) / 1000),
      },
      ...(warmup ? { warmup } : {}),
      end,
    };
  } finally {
    await target.stop();
  }
}

/** The dashboard query of `id` (ops/src/queries.ts), as Prometheus answers it. */
function panel(id: string): { expr: string; legend: string; title: string } {
  const p = PANELS.find((x) => x.id === id);
  if (!p) throw new Error(`no dashboard panel ${id} in ops/src/queries.ts`);
  return { expr: promql(p.expr, RATE_WINDOW), legend: p.legend, title: p.title };
}

/**
 * A traced run as Prometheus saw it, x in seconds since its warm-up began; the untraced
 * run's latency (aligned on its own warm-up) drawn dashed beside the traced one.
 */
async function operatorPlot(
  obs: Observability,
  traced: ModeWindow,
  untraced: ModeWindow | undefined,
): Promise<{ svg: string; empty: string[]; queries: Record<string, string> }> {
  const range = (expr: string, w: ModeWindow) =>
    obs.queryRange(expr, w.warmStartS - 2, w.endS + 3, SCRAPE_SECONDS) as Promise<RangeSeries[]>;
  const sentStored = panel('messages.sent-stored');
  const latency = panel('messages.send-deliver');
  const lag = panel('messages.lag-group');
  // Per function, not per (function, type) like the dashboard's panel: the plot's legend stays short.
  const handle = {
    title: 'CloudEvent handle p99 by function',
    expr: promql(
      'histogram_quantile(0.99, sum by (function, le) (rate(parley_event_handle_seconds_bucket[$__rate_interval])))',
      RATE_WINDOW,
    ),
    legend: '{{function}}',
  };
  const queries = {
    [sentStored.title]: sentStored.expr,
    [latency.title]: latency.expr,
    [lag.title]: lag.expr,
    [handle.title]: handle.expr,
  };
  const t0 = traced.warmStartS;
  const tracedLabel = `ratio ${traced.mode}`;
  const plots: PlotOptions[] = [
    {
      title: `${sentStored.title} (tracing ${tracedLabel})`,
      xLabel: 'seconds since the warm-up began',
      yLabel: 'messages per second',
      logY: false,
      series: rangeToPlotSeries(await range(sentStored.expr, traced), {
        legend: sentStored.legend,
        t0S: t0,
      }),
    },
    {
      title: `${latency.title}: tracing ${tracedLabel} (solid)${untraced ? ' and off (dashed)' : ''}`,
      xLabel: 'seconds since the warm-up began',
      yLabel: 'ms',
      series: [
        ...rangeToPlotSeries(await range(latency.expr, traced), {
          legend: latency.legend,
          t0S: t0,
          scale: 1000,
          suffix: ` (${tracedLabel})`,
        }),
        ...(untraced
          ? rangeToPlotSeries(await range(latency.expr, untraced), {
              legend: latency.legend,
              t0S: untraced.warmStartS,
              scale: 1000,
              suffix: ' (off)',
              dashed: true,
            })
          : []),
      ],
    },
    {
      title: `${lag.title} (tracing ${tracedLabel})`,
      xLabel: 'seconds since the warm-up began',
      yLabel: 'records behind',
      logY: false,
      series: rangeToPlotSeries(await range(lag.expr, traced), {
        legend: lag.legend,
        // Every group is parley-…: the rest is what tells them apart.
        rename: (n) => n.replace(/^parley-/, ''),
        t0S: t0,
      }),
    },
    {
      title: `${handle.title} (tracing ${tracedLabel})`,
      xLabel: 'seconds since the warm-up began',
      yLabel: 'ms',
      series: rangeToPlotSeries(await range(handle.expr, traced), {
        legend: handle.legend,
        t0S: t0,
        scale: 1000,
      }),
    },
  ];
  const empty = plots.filter((p) => p.series.length === 0).map((p) => p.title);
  const svg = stackedPlotsSvg(
    'Parley real stack under chat load, as a real Prometheus scraped it (1 s)',
    plots,
    { width: 980, panelHeight: 340 },
  );
  return { svg, empty, queries };
}

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      modes: { type: 'string', default: 'off,1,0.1' },
      rate: { type: 'string', default: '40' },
      duration: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '5' },
      users: { type: 'string' },
      rooms: { type: 'string' },
      'body-chars': { type: 'string' },
      settle: { type: 'string' },
      name: { type: 'string', default: 'observability' },
      'no-record': { type: 'boolean', default: false },
    },
  });
  const modes = parseModes(a.modes);
  const chat = withOverrides(ChatScenarioSchema, loadScenarios().chat, chatOverrides(a));
  const settleMs = num(a.settle, 'settle') ?? 30_000;
  const when = new Date().toISOString();
  const command = commandLine('bench:observability');
  const loads: { at: string; loadavg: number[] }[] = [];
  const noteLoad = (at: string) =>
    loads.push({ at, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) });
  noteLoad('start');

  say('starting Prometheus, Alertmanager and Jaeger…');
  const obs = await startObservability(await toolPaths(), { intervalSeconds: SCRAPE_SECONDS });
  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
    void obs.stop().then(() => process.exit(130));
  });
  const runs: ModeRun[] = [];
  const windows: ModeWindow[] = [];
  const sessions: { mode: string; warmup?: PhaseResult; end: SessionEnd }[] = [];
  try {
    for (const [i, mode] of modes.entries()) {
      if (stopping) break;
      const r = await runMode(obs, mode, chat, { skipBuild: i > 0, settleMs });
      runs.push(r.run);
      windows.push(r.window);
      sessions.push({ mode, ...(r.warmup ? { warmup: r.warmup } : {}), end: r.end });
      noteLoad(`after ${mode}`);
    }
    // Every span exported (ratio 1) if that ran, else the first traced run.
    const traced = windows.find((w) => w.mode === '1') ?? windows.find((w) => w.mode !== 'off');
    const plot = traced
      ? await operatorPlot(
          obs,
          traced,
          windows.find((w) => w.mode === 'off'),
        )
      : undefined;
    if (plot?.empty.length) say(`NO DATA in: ${plot.empty.join('; ')}`);
    const costs = runs.map((r) => modeCost(r));
    const problems = runs.flatMap((r) => r.problems.map((p) => `${r.mode}: ${p}`));

    const phases = runs.map((r) => r.phase);
    const toolNames = [...new Set(runs.flatMap((r) => Object.keys(r.toolsCpuMs)))].sort();
    const body = [
      '## Tracing cost',
      '',
      `Each setting ran on a fresh real stack (tracing is read at process start) on the same services, one after the other, with the same open-loop load: ${chat.users} users in ${chat.rooms} rooms, ${chat.ratePerSecond} msg/s for ${chat.durationSeconds} s after a ${chat.warmupSeconds} s warm-up. Prometheus scraped every process each second in every run. CPU is of the measured phase (its sending and its settling), per stored message; "Parley’s processes" are the stack's, "services" MariaDB ×2, Redis, Kafka, Elasticsearch (shared with anyone else on the machine), "Jaeger" the receiving end, which in production runs elsewhere. In brackets: the difference from the untraced run.`,
      '',
      tracingCostMarkdown(costs),
      '',
      `Spans are those Jaeger holds for traces started in the measured phase, found through its query API by the service \`${ROOT_SERVICE}\` (each message's trace starts at its \`send\` frame).`,
      '',
      ...runs
        .filter((r) => r.spans)
        .map(
          (r) =>
            `- ratio ${r.mode}: ${r.spans?.traces} traces, ${r.spans?.spans} spans; by service: ${Object.entries(
              r.spans?.byService ?? {},
            )
              .sort((x, y) => y[1] - x[1])
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`,
        ),
      '',
      '### Load average (1, 5, 15 min) through the run',
      '',
      markdownTable(
        ['when', 'load average'],
        loads.map((l) => [l.at, l.loadavg.join(' ')]),
      ),
      '',
      '## Phases',
      '',
      phasesMarkdown(
        sessions.flatMap((x, i) => [...(x.warmup ? [x.warmup] : []), phases[i] as PhaseResult]),
      ),
      '',
      '## CPU per stored message, by process and setting',
      '',
      cpuByPhaseMarkdown(phases),
      '',
      '### The tools over the same phases (CPU ms, not part of the table above)',
      '',
      markdownTable(
        ['tool', ...runs.map((r) => r.phase.label)],
        toolNames.map((n) => [n, ...runs.map((r) => r.toolsCpuMs[n] ?? '–')]),
      ),
      '',
      ...(plot
        ? [
            '## What Prometheus saw',
            '',
            `The plot above: range queries over the traced run (ratio ${traced?.mode}, step ${SCRAPE_SECONDS} s), the dashboards' own queries (ops/src/queries.ts) with \`$__rate_interval\` = ${RATE_WINDOW}:`,
            '',
            ...Object.entries(plot.queries).map(([t, q]) => `- ${t}: \`${q}\``),
            ...(plot.empty.length ? ['', `No data in: ${plot.empty.join('; ')}.`] : []),
            '',
          ]
        : []),
      '## Checks at the end of each session',
      '',
      ...sessions.flatMap((x) => [
        `### ${x.mode === 'off' ? 'tracing off' : `tracing ratio ${x.mode}`}`,
        '',
        endMarkdown(x.end, endProblems(x.end)),
        '',
      ]),
    ].join('\n');

    if (!a['no-record']) {
      const files = writeRecord(
        RESULTS_DIR,
        {
          name: a.name,
          when,
          command,
          machine: machineInfo(),
          commit: commitInfo(REPO_ROOT),
          target: `the real stack (launcher/src/stack.ts) started once per tracing setting, every deployable its own process from its bundle on ${bundleNodeVersion()}, on the services of tests/infra/up; Prometheus, Alertmanager and Jaeger (launcher/src/observability.ts) on loopback`,
          scenario: { ...chat, modes, settleMs, scrapeSeconds: SCRAPE_SECONDS },
          results: { costs, runs, windows, loads, queries: plot?.queries ?? {} },
          notes: [
            `load average at the start ${loads[0]?.loadavg.join(' ')} (2 cores shared by every process here, the client and the tools included)`,
          ],
        },
        {
          title: `Observability: what tracing costs per message (${modes.join(', ')}), and a load run as Prometheus saw it`,
          body,
          ...(plot ? { svg: plot.svg, svgAlt: 'a load run as Prometheus scraped it' } : {}),
        },
      );
      say(`recorded ${files.md}${files.svg ? ` and ${files.svg}` : ''}`);
    }
    process.stdout.write(`${tracingCostMarkdown(costs)}\n`);
    if (problems.length) {
      say(`FAILED: ${problems.join('; ')}`);
      return 1;
    }
    return 0;
  } finally {
    await obs.stop();
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

/** The Node the bundles run on (PARLEY_NODE, else this one): the runtime tracing's cost depends on. */
function bundleNodeVersion(): string {
  const node = bundleNode();
  if (node === process.execPath) return `Node ${process.version}`;
  return `Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()} (PARLEY_NODE)`;
}
