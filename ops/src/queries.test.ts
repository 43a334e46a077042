/**
 * The dashboard queries against the metric list (ops/src/metrics.ts): a renamed metric or label, a
 * typo, a legend naming a label the query drops, or a failure-only series without its zero
 * fallback fails here instead of drawing an empty panel. (Whether each query returns data from a
 * real Prometheus is the real test's job.)
 */
import { describe, expect, it } from 'vitest';
import { METRIC_SPECS, type MetricName, metricOfSeries } from './metrics';
import { DASHBOARDS, PANELS, panelsOf, promql, queryParts } from './queries';

/** Labels every series has besides its own: the registry's default and Prometheus's. */
const COMMON = ['service', 'job', 'instance'];

/** Labels a series of this name carries. */
function labelsOf(series: string): string[] {
  const metric = metricOfSeries(series) as MetricName;
  const own: readonly string[] = METRIC_SPECS[metric].labels;
  return [...COMMON, ...own, ...(series.endsWith('_bucket') ? ['le'] : [])];
}

/**
 * Series (or selectors) that exist only after something went wrong: a query reading them needs an
 * `or` fallback so that "nothing went wrong" is a zero, not "No data".
 */
const FAILURE_ONLY = [
  /parley_source_dead_lettered_total/,
  /parley_source_retried_total/,
  /parley_gateway_handshakes_refused_total/,
  /parley_gateway_frames_refused_total/,
  /parley_gateway_http_refused_total/,
  /parley_gateway_slow_reader_closes_total/,
  /parley_gateway_heartbeat_drops_total/,
  /code=~"5\.\."/,
  /outcome!="ok"/,
  /== 0/,
];

describe('the panel queries', () => {
  it('has unique ids and panels on every dashboard', () => {
    expect(new Set(PANELS.map((p) => p.id)).size).toBe(PANELS.length);
    for (const d of Object.keys(DASHBOARDS) as (keyof typeof DASHBOARDS)[])
      expect(panelsOf(d).length, d).toBeGreaterThan(0);
    for (const p of PANELS) expect(p.id.startsWith(`${p.dashboard}.`), p.id).toBe(true);
  });

  it.each(PANELS.map((p) => [p.id, p] as const))('%s names only known metrics', (_id, p) => {
    const { series } = queryParts(p.expr);
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) {
      expect(metricOfSeries(s), `${s} is not in ops/src/metrics.ts`).toBeDefined();
      // A histogram is read through its _bucket/_sum/_count series, never by its bare name.
      if (metricOfSeries(s) === s) expect(METRIC_SPECS[s as MetricName].type).not.toBe('histogram');
    }
  });

  it.each(PANELS.map((p) => [p.id, p] as const))(
    '%s names only labels its series carry',
    (_id, p) => {
      const { series, matchers, grouping, added } = queryParts(p.expr);
      for (const m of matchers)
        expect(labelsOf(m.series), `${m.series}{${m.label}}`).toContain(m.label);
      // A `by` label must exist on at least one series the query reads (or be added by label_replace).
      const available = new Set([...series.flatMap(labelsOf), ...added]);
      for (const g of grouping) expect([...available], `by (${g})`).toContain(g);
      // Never aggregate by job/instance: they differ between the local run and Kubernetes.
      expect(grouping).not.toContain('job');
      expect(grouping).not.toContain('instance');
    },
  );

  it.each(PANELS.map((p) => [p.id, p] as const))(
    '%s has a legend from labels it keeps',
    (_id, p) => {
      const { grouping, added } = queryParts(p.expr);
      const kept = new Set([...grouping.filter((g) => g !== 'le'), ...added]);
      const placeholders = [...p.legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
      for (const l of placeholders) expect([...kept], `legend {{${l}}}`).toContain(l);
      expect(p.legend.trim()).not.toBe('');
    },
  );

  it.each(
    PANELS.filter((p) => FAILURE_ONLY.some((re) => re.test(p.expr))).map((p) => [p.id, p] as const),
  )('%s reads a failure-only series and falls back to zero', (_id, p) => {
    expect(p.expr).toMatch(/ or (vector\(0\)|.* \* 0\b)/);
  });

  it('has balanced brackets and no Grafana variable once made plain PromQL', () => {
    for (const p of PANELS) {
      const q = promql(p.expr, '2m');
      expect(q, p.id).not.toContain('$');
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ] as const)
        expect(q.split(open).length, `${p.id} ${open}${close}`).toBe(q.split(close).length);
      if (p.expr.includes('rate(')) expect(q, p.id).toContain('[2m]');
    }
  });

  it('scans a query the way PromQL reads it', () => {
    expect(
      queryParts(
        'label_replace(sum by (group, le) (rate(parley_x_bucket{topic="a,b", code=~"5.."}[$__rate_interval])), "q", "p99", "", "") or vector(0)',
      ),
    ).toEqual({
      series: ['parley_x_bucket'],
      matchers: [
        { series: 'parley_x_bucket', label: 'topic' },
        { series: 'parley_x_bucket', label: 'code' },
      ],
      grouping: ['group', 'le'],
      added: ['q'],
    });
  });
});
