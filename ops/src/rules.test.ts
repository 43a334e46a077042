/**
 * What promtool does not check in ops/prometheus/rules.yml and ops/alertmanager/alertmanager.yml
 * (ops/check.sh runs promtool and amtool themselves): every binding alert exists and carries a
 * severity the routing knows, a summary, a description and a runbook that exists in
 * docs/operations.md; every metric a rule reads is one Parley exports (ops/src/metrics.ts), with
 * labels it has; and the Alertmanager config routes every severity and holds no real endpoint.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { METRIC_SPECS, metricOfSeries } from './metrics';
import { queryParts } from './queries';

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');

/** The alert names of issue 13's design: the real test and the dashboards refer to them. */
const ALERTS = [
  'ParleyHighErrorRate',
  'ParleyHighLatencyP99',
  'ParleyConsumerLagHigh',
  'ParleyConsumerStalled',
  'ParleyDeadLetterGrowing',
  'ParleySlowReaderCloses',
  'ParleyShardDown',
  'ParleyScaleToZeroFlapping',
  'ParleyTargetDown',
];

const Duration = z.string().regex(/^\d+[smh]$/);
const RuleSchema = z.union([
  z
    .object({
      record: z.string(),
      expr: z.string(),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
  z
    .object({
      alert: z.string(),
      expr: z.string(),
      for: Duration.optional(),
      labels: z.object({ severity: z.enum(['page', 'ticket']) }).catchall(z.string()),
      annotations: z
        .object({
          summary: z.string().min(1),
          description: z.string().min(1),
          runbook_url: z.string(),
        })
        .strict(),
    })
    .strict(),
]);
const RulesFileSchema = z.object({
  groups: z.array(z.object({ name: z.string(), rules: z.array(RuleSchema).min(1) }).strict()),
});

const rules = RulesFileSchema.parse(parse(read('../prometheus/rules.yml'))).groups.flatMap(
  (g) => g.rules,
);
const alerts = rules.flatMap((r) => ('alert' in r ? [r] : []));
const records = rules.flatMap((r) => ('record' in r ? [r] : []));

/** Labels every series has besides its own: the registry's default and Prometheus's target labels. */
const COMMON_LABELS = new Set(['service', 'job', 'instance']);

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

describe('queryParts on rule expressions (the metric-name check below relies on it)', () => {
  it('finds the series, not the functions, keywords, label lists or durations', () => {
    expect(
      queryParts(
        'sum by (group) (max by (group, topic) (parley_kafka_consumer_lag{group=~"a|b"})) > 0 unless on (group) increase(parley_source_delivered_total[5m]) offset 15m or process_start_time_seconds > bool (time() - 900)',
      ),
    ).toMatchObject({
      series: [
        'parley_kafka_consumer_lag',
        'parley_source_delivered_total',
        'process_start_time_seconds',
      ],
      matchers: [{ series: 'parley_kafka_consumer_lag', label: 'group' }],
    });
  });
  it('finds a misspelt metric, which the check then reports', () => {
    const { series } = queryParts('rate(parley_http_request_total{code="500"}[5m])');
    expect(series).toEqual(['parley_http_request_total']);
    expect(metricOfSeries('parley_http_request_total')).toBeUndefined();
  });
});

describe('ops/prometheus/rules.yml', () => {
  it('has every alert of the design, and no other', () => {
    expect([...new Set(alerts.map((a) => a.alert))].sort()).toEqual([...ALERTS].sort());
  });

  it.each(alerts.map((a, i) => [`${a.alert} #${i}`, a] as const))(
    '%s links its runbook in docs/operations.md',
    (_name, a) => {
      expect(a.annotations.runbook_url).toBe(`docs/operations.md#${a.alert.toLowerCase()}`);
      const anchors = [...read('../../docs/operations.md').matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
        anchorOf(m[1] as string),
      );
      expect(anchors).toContain(a.alert.toLowerCase());
    },
  );

  it('tells the rules of one alert apart by a `kind` label (one notification each)', () => {
    for (const name of ALERTS) {
      const variants = alerts.filter((a) => a.alert === name);
      if (variants.length === 1) continue;
      const kinds = variants.map((a) => a.labels.kind);
      expect(kinds.every(Boolean), name).toBe(true);
      expect(new Set(kinds).size, name).toBe(variants.length);
    }
  });

  it.each(rules.map((r) => ['record' in r ? r.record : r.alert, r] as const))(
    '%s reads only metrics Parley exports, with labels they have',
    (_name, r) => {
      const own = new Set(records.map((x) => x.record));
      const { series, matchers } = queryParts(r.expr);
      expect(series.length).toBeGreaterThan(0);
      for (const s of series) {
        if (own.has(s)) continue;
        expect(metricOfSeries(s), `${s} is not in ops/src/metrics.ts`).toBeDefined();
      }
      for (const { series: s, label } of matchers) {
        const metric = metricOfSeries(s);
        if (!metric) continue;
        const labels = new Set<string>([...METRIC_SPECS[metric].labels, ...COMMON_LABELS]);
        if (s.endsWith('_bucket')) labels.add('le');
        expect(labels.has(label), `${s} has no label ${label}`).toBe(true);
      }
    },
  );

  it('names recording rules level:metric:operations, each once', () => {
    for (const r of records) expect(r.record).toMatch(/^[a-z_]*:parley_[a-z_]+:[a-z0-9_]+$/);
    expect(new Set(records.map((r) => r.record)).size).toBe(records.length);
  });

  it('keeps the stall alert rewritable for the real test: plain `for:` and `[Nm]` windows', () => {
    const stalled = alerts.find((a) => a.alert === 'ParleyConsumerStalled');
    expect(stalled?.for).toMatch(/^\d+m$/);
    expect(stalled?.expr).toMatch(/parley_kafka_consumer_committed_offset\[\d+m\]/);
  });
});

describe('ops/alertmanager/alertmanager.yml', () => {
  const Matchers = z.array(z.string()).optional();
  const config = z
    .object({
      route: z.object({
        receiver: z.string(),
        group_by: z.array(z.string()),
        routes: z.array(z.object({ receiver: z.string(), matchers: Matchers }).passthrough()),
      }),
      inhibit_rules: z.array(
        z.object({
          source_matchers: Matchers,
          target_matchers: Matchers,
          equal: z.array(z.string()),
        }),
      ),
      receivers: z.array(
        z.object({
          name: z.string(),
          webhook_configs: z.array(z.object({ url: z.string().url() }).passthrough()),
        }),
      ),
    })
    .parse(parse(read('../alertmanager/alertmanager.yml')));

  it('routes every severity the rules use to its own receiver', () => {
    const routed = new Map(
      config.route.routes.map((r) => [r.matchers?.join(','), r.receiver] as const),
    );
    for (const severity of new Set(alerts.map((a) => a.labels.severity)))
      expect(routed.get(`severity="${severity}"`), severity).toBe(
        severity === 'page' ? 'pager' : 'ticket',
      );
    expect(config.route.group_by).toEqual(['alertname', 'service', 'group']);
  });

  it("holds back a service's tickets while a page of that service fires", () => {
    expect(config.inhibit_rules).toContainEqual({
      source_matchers: ['severity="page"', 'service=~".+"'],
      target_matchers: ['severity="ticket"'],
      equal: ['service'],
    });
  });

  it('sends nowhere real: every webhook is a placeholder on the reserved .invalid domain', () => {
    const urls = config.receivers.flatMap((r) => r.webhook_configs.map((w) => new URL(w.url)));
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) {
      expect(u.hostname).toMatch(/\.invalid$/);
      expect(u.username + u.password + u.search).toBe('');
    }
  });
});
