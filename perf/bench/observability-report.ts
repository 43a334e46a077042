/**
 * The pure half of `npm run bench:observability` (perf/bench/observability.ts): Prometheus range
 * series turned into plot lines, Jaeger's traces counted, several plots stacked into one SVG file,
 * and the runs (tracing off, on at a ratio) compared per stored message. No I/O here, so each part
 * is unit-tested beside it.
 */
import type { PhaseResult } from '../harness/session';
import { groupOf } from '../harness/session';
import { fmtMs } from '../harness/stats';
import { type PlotOptions, type PlotSeries, plotSvg } from '../src/plot-svg';
import { markdownTable } from '../src/record';

/** One series of a Prometheus range query (`/api/v1/query_range`'s `result[]`). */
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/**
 * A Grafana legend format with the series' labels filled in: `{{group}}` → its `group` label
 * (empty when the series has none), fixed text kept.
 * @example legendOf('{{function}} {{type}}', { function: 'notify', type: 'x' }) // 'notify x'
 */
export function legendOf(format: string, metric: Record<string, string>): string {
  return format.replace(
    /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g,
    (_m, k: string) => metric[k] ?? '',
  );
}

/**
 * Range series as plot lines: x in seconds since `t0S` (Unix seconds), y the sample times `scale`
 * (1000 for seconds → ms). Samples that are not finite numbers (a histogram quantile with no
 * traffic is NaN) are dropped; a series left without points is left out. Sorted by name, so the
 * legend does not change order from run to run.
 */
export function rangeToPlotSeries(
  series: readonly RangeSeries[],
  opts: {
    legend: string;
    t0S: number;
    scale?: number;
    suffix?: string;
    dashed?: boolean;
    /** Shortens a legend entry (the plot's legend column is narrow). */
    rename?: (name: string) => string;
  },
): PlotSeries[] {
  const scale = opts.scale ?? 1;
  const out: PlotSeries[] = [];
  for (const s of series) {
    const points: [number, number][] = [];
    for (const [t, v] of s.values) {
      const y = Number(v) * scale;
      if (Number.isFinite(y)) points.push([Math.round((t - opts.t0S) * 1000) / 1000, y]);
    }
    if (!points.length) continue;
    const label = legendOf(opts.legend, s.metric).trim() || 'value';
    const name = `${opts.rename ? opts.rename(label) : label}${opts.suffix ?? ''}`;
    out.push({ name, points, ...(opts.dashed ? { dashed: true } : {}) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Several plots one above the other in one SVG file, each its own `plotSvg` (nested `<svg>`
 * elements at their offsets), under a common title.
 */
export function stackedPlotsSvg(
  title: string,
  plots: readonly PlotOptions[],
  opts: { width?: number; panelHeight?: number } = {},
): string {
  const width = opts.width ?? 900;
  const panelHeight = opts.panelHeight ?? 320;
  const head = 34;
  const height = head + plots.length * panelHeight;
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const panels = plots.map((p, i) => {
    const svg = plotSvg({ ...p, width, height: panelHeight }).replace(/^<\?xml[^>]*\?>\s*/, '');
    // The outer <svg> of each panel placed at its offset: x/y on a nested svg move it.
    return svg.replace(/^<svg /, `<svg x="0" y="${head + i * panelHeight}" `);
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
    ...panels.map((p) => p.trimEnd()),
    '</svg>',
    '',
  ].join('\n');
}

/** What Jaeger's query API (`/api/traces`) answers per trace, the fields counted here. */
export interface JaegerTrace {
  traceID: string;
  spans: { spanID: string; processID: string }[];
  processes: Record<string, { serviceName: string }>;
}

export interface SpanCount {
  traces: number;
  spans: number;
  /** Spans by the service (`service.name`) that sent them. */
  byService: Record<string, number>;
}

/** Traces and spans in Jaeger answers (the same trace in two answers counted once). */
export function countSpans(answers: readonly (readonly JaegerTrace[])[]): SpanCount {
  const seen = new Set<string>();
  const byService: Record<string, number> = {};
  let spans = 0;
  for (const traces of answers)
    for (const t of traces) {
      if (seen.has(t.traceID)) continue;
      seen.add(t.traceID);
      for (const s of t.spans) {
        const service = t.processes[s.processID]?.serviceName ?? 'unknown';
        byService[service] = (byService[service] ?? 0) + 1;
        spans++;
      }
    }
  return { traces: seen.size, spans, byService };
}

/** One run of the bench: a tracing setting and what its measured phase gave. */
export interface ModeRun {
  /** `off`, or the sampling ratio as typed (`1`, `0.1`). */
  mode: string;
  /** The measured phase: its CPU covers the stack's processes, the services and the client. */
  phase: PhaseResult;
  /** CPU ms of the operator's tools (prometheus, alertmanager, jaeger) over the same phase. */
  toolsCpuMs: Record<string, number>;
  /** Spans Jaeger received for traces that started in the measured phase (undefined: tracing off). */
  spans?: SpanCount;
  /** Correctness problems at the end of the session (lost, doubled, not indexed). */
  problems: string[];
}

/** CPU of one run per stored message, by side: Parley's processes, the services, the client, the tools. */
export interface ModeCost {
  mode: string;
  stored: number;
  achievedPerSecond: number;
  deliverP50Ms: number | null;
  deliverP99Ms: number | null;
  /** CPU ms per stored message. */
  parleyMs: number;
  servicesMs: number;
  clientMs: number;
  /** Jaeger alone (what receiving and storing the spans cost; in production on other machines). */
  jaegerMs: number;
  /** Prometheus, Alertmanager and Jaeger together. */
  toolsMs: number;
  /** Everything: Parley, the services, the client and the tools. */
  totalMs: number;
  /** Parley, the services and the client less what they burn idle (the harness's "above idle"). */
  aboveIdleMs: number | null;
  spansPerMessage: number | null;
  tracesPerMessage: number | null;
}

/** The CPU per stored message of a run by side (groups as the harness's `groupOf`). */
export function modeCost(run: ModeRun): ModeCost {
  const p = run.phase;
  const sum = { parley: 0, services: 0, client: 0 };
  for (const r of p.cpu.byProcess) sum[groupOf(r.name)] += r.cpuMs;
  const tools = Object.values(run.toolsCpuMs).reduce((a, b) => a + b, 0);
  const per = (ms: number) => (p.stored > 0 ? Math.round((ms / p.stored) * 1000) / 1000 : 0);
  const perMsg = (n: number | undefined) =>
    n === undefined || p.stored === 0 ? null : Math.round((n / p.stored) * 100) / 100;
  return {
    mode: run.mode,
    stored: p.stored,
    achievedPerSecond: p.achievedPerSecond,
    deliverP50Ms: p.deliver.p50,
    deliverP99Ms: p.deliver.p99,
    parleyMs: per(sum.parley),
    servicesMs: per(sum.services),
    clientMs: per(sum.client),
    jaegerMs: per(run.toolsCpuMs.jaeger ?? 0),
    toolsMs: per(tools),
    totalMs: per(sum.parley + sum.services + sum.client + tools),
    aboveIdleMs: p.cpu.perMessageAboveIdleMs,
    spansPerMessage: perMsg(run.spans?.spans),
    tracesPerMessage: perMsg(run.spans?.traces),
  };
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;

/**
 * The comparison table: one row per run, with each CPU column's difference from the first run
 * whose mode is `off` (the baseline) beside it.
 */
export function tracingCostMarkdown(costs: readonly ModeCost[]): string {
  const base = costs.find((c) => c.mode === 'off');
  const cell = (c: ModeCost, k: 'parleyMs' | 'servicesMs' | 'jaegerMs' | 'totalMs') =>
    base && c !== base ? `${c[k].toFixed(2)} (${signed(c[k] - base[k])})` : c[k].toFixed(2);
  return markdownTable(
    [
      'tracing',
      'stored',
      'achieved/s',
      'deliver p50',
      'deliver p99',
      'Parley’s processes, CPU ms/msg',
      'services',
      'Jaeger',
      'all (client and tools included)',
      'all but the tools, above idle',
      'spans/msg',
      'traces/msg',
    ],
    costs.map((c) => [
      c.mode === 'off' ? 'off' : `on, ratio ${c.mode}`,
      c.stored,
      c.achievedPerSecond,
      fmtMs(c.deliverP50Ms),
      fmtMs(c.deliverP99Ms),
      cell(c, 'parleyMs'),
      cell(c, 'servicesMs'),
      cell(c, 'jaegerMs'),
      cell(c, 'totalMs'),
      c.aboveIdleMs === null
        ? '–'
        : base && c !== base && base.aboveIdleMs !== null
          ? `${c.aboveIdleMs.toFixed(2)} (${signed(c.aboveIdleMs - base.aboveIdleMs)})`
          : c.aboveIdleMs.toFixed(2),
      c.spansPerMessage === null ? '–' : c.spansPerMessage.toFixed(2),
      c.tracesPerMessage === null ? '–' : c.tracesPerMessage.toFixed(2),
    ]),
  );
}

/**
 * The modes a command line names: `off` or a ratio in [0, 1], comma-separated, each once.
 * @example parseModes('off,1,0.1') // ['off', '1', '0.1']
 */
export function parseModes(text: string): string[] {
  const modes = text
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (!modes.length) throw new Error('--modes: name at least one of off or a ratio 0…1');
  for (const m of modes) {
    if (m === 'off') continue;
    const r = Number(m);
    if (!(Number.isFinite(r) && r >= 0 && r <= 1))
      throw new Error(`--modes: ${m} is neither off nor a ratio 0…1`);
  }
  if (new Set(modes).size !== modes.length) throw new Error(`--modes: ${text} names one twice`);
  return modes;
}
