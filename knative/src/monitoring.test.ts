/**
 * The Prometheus Operator component (knative/components/monitoring, monitoring.ts) against:
 * - the generator: the committed files are what `npm run manifests` makes now, from the table and
 *   ops/prometheus/rules.yml (a rule edited without regenerating fails);
 * - the real schemas: prometheus-operator v0.85.0's CRDs and the @kubernetes-models models
 *   (`bash knative/schemas/fetch.sh` fetches the CRDs; without them these tests fail, never skip);
 * - the base: each PodMonitor selects exactly its deployable's serving pods and reaches
 *   METRICS_PORT on them, as Prometheus would relabel the target;
 * - the overlays: prod carries the component, dev does not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPLOYMENTS, type Deployable } from '@parley/eventing/deployments';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { staleMonitoringFiles } from './generate';
import { baseFiles } from './manifests';
import {
  KNATIVE_USER_PORT,
  MONITORING_DIR,
  monitoringFiles,
  prometheusRule,
  RULES_FILE,
  renderMonitoring,
} from './monitoring';
import { goPattern, kustomizeBuild, loadSchemas, parseYamlDocs, type Schemas } from './schemas';
import { METRICS_PORT, NAMESPACE } from './settings';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any kind, walked by known paths
type Json = Record<string, any>;

vi.setConfig({ testTimeout: 60_000 });

const KNATIVE_DIR = fileURLToPath(new URL('..', import.meta.url));

const committed = (): Json[] =>
  readdirSync(MONITORING_DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((f) => parseYamlDocs(readFileSync(join(MONITORING_DIR, f), 'utf8')));
const podMonitors = (): Json[] => committed().filter((o) => o.kind === 'PodMonitor');

let loaded: { schemas: Schemas; dev: Json[]; prod: Json[] } | undefined;
let loadError: unknown;
function fetched() {
  if (loadError) throw loadError;
  if (!loaded) {
    try {
      const render = (o: string) => kustomizeBuild(join(KNATIVE_DIR, 'overlays', o));
      loaded = { schemas: loadSchemas(), dev: render('dev'), prod: render('prod') };
    } catch (err) {
      loadError = err;
      throw err;
    }
  }
  return loaded;
}
beforeAll(() => {
  try {
    fetched();
  } catch {
    // reported by every test that calls fetched()
  }
}, 120_000);

/** Does a `matchLabels` selector select a pod with these labels? */
const selects = (matchLabels: Record<string, string>, podLabels: Record<string, string> = {}) =>
  Object.entries(matchLabels).every(([k, v]) => podLabels[k] === v);

/** Every pod template of the base: whose, which kind of object, its labels and containers. */
function podTemplates(): { owner: string; kind: string; labels: Json; spec: Json }[] {
  return baseFiles()
    .flatMap((f) => f.objects as Json[])
    .flatMap((o) => {
      const t = o.spec?.template;
      if (!t?.spec?.containers) return [];
      return [{ owner: o.metadata.name, kind: o.kind, labels: t.metadata?.labels, spec: t.spec }];
    });
}

/**
 * A Prometheus `replace` relabeling applied to one label value: RE2 regexes are fully anchored,
 * `${1}` is the first group.
 */
function relabel(rule: Json, value: string): string | undefined {
  const m = new RegExp(`^(?:${rule.regex ?? '(.*)'})$`).exec(value);
  if (!m) return undefined;
  return String(rule.replacement ?? '$1').replace(/\$\{?(\d+)\}?/g, (_, i) => m[Number(i)] ?? '');
}

describe('knative/components/monitoring is generated', () => {
  it('equals what `npm run manifests` writes now (the table and ops/prometheus/rules.yml)', () => {
    expect(staleMonitoringFiles(), 'run: npm run manifests').toEqual([]);
    const objects = monitoringFiles().flatMap((f) => f.objects).length;
    expect(committed()).toHaveLength(objects);
  });

  it('is a kustomize Component listing its files', () => {
    const k = parse(readFileSync(join(MONITORING_DIR, 'kustomization.yaml'), 'utf8'));
    expect(k.kind).toBe('Component');
    expect(k.resources.sort()).toEqual(
      [...renderMonitoring().keys()].filter((f) => f !== 'kustomization.yaml').sort(),
    );
  });

  it('changes when the rules change (the PrometheusRule is read from rules.yml)', () => {
    const rules = readFileSync(RULES_FILE, 'utf8');
    const edited = rules.replace(/(\n\s*- alert: )(\w+)/, '$1Renamed$2');
    expect(edited).not.toBe(rules);
    expect(renderMonitoring(edited).get('prometheus-rules.yaml')).not.toBe(
      renderMonitoring(rules).get('prometheus-rules.yaml'),
    );
    expect(() => prometheusRule('groups: []\n')).toThrow(/no rule groups/);
  });
});

describe('against the prometheus-operator CRDs and models', () => {
  it('every object of the component is valid', () => {
    const { schemas } = fetched();
    const objs = committed();
    expect(objs.map((o) => o.kind).sort()).toEqual([
      ...DEPLOYMENTS.map(() => 'PodMonitor'),
      'PrometheusRule',
    ]);
    expect(objs.flatMap((o) => schemas.validate(o))).toEqual([]);
    for (const o of objs) expect(schemas.describe(o)).toMatch(/^CRD .*monitoring\.coreos\.com/);
  });

  it('refuses what the API server would refuse (the validators are not vacuous)', () => {
    const { schemas } = fetched();
    const pm = structuredClone(podMonitors()[0]) as Json;
    pm.spec.podMetricsEndpoints[0].prot = 'metrics';
    expect(schemas.validate(pm).join('\n')).toMatch(/additional properties: prot/);

    const rule = structuredClone(committed().find((o) => o.kind === 'PrometheusRule')) as Json;
    const alert = rule.spec.groups
      .flatMap((g: Json) => g.rules)
      .find((r: Json) => r.alert && r.for);
    alert.for = 'five minutes';
    expect(schemas.validate(rule).join('\n')).toMatch(/for must match pattern/);
    delete alert.expr;
    expect(schemas.validate(rule).join('\n')).toMatch(/expr/);
  });
});

describe('a CRD pattern in Go syntax', () => {
  it('keeps (?i) case-insensitive in JavaScript', () => {
    const re = new RegExp(goPattern('^(?i)(abort|warn)?$'), 'u');
    for (const ok of ['abort', 'WARN', 'Abort', '']) expect(re.test(ok), ok).toBe(true);
    for (const bad of ['abortx', 'skip']) expect(re.test(bad), bad).toBe(false);
    expect(goPattern('^[a-z]+$')).toBe('^[a-z]+$');
    expect(new RegExp(goPattern('(?i)[a-c]\\d')).test('b7')).toBe(true);
  });
});

describe('against the base and the table', () => {
  it('has one PodMonitor per deployable, selecting its serving pods and no other pod', () => {
    const templates = podTemplates();
    const monitors = podMonitors();
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(
      DEPLOYMENTS.map((d) => d.name).sort(),
    );
    for (const m of monitors) {
      expect(m.metadata.namespace).toBe(NAMESPACE);
      const selected = templates.filter((t) => selects(m.spec.selector.matchLabels, t.labels));
      expect(
        selected.map((t) => `${t.kind}/${t.owner}`),
        m.metadata.name,
      ).toEqual([
        `${(DEPLOYMENTS as readonly Deployable[]).find((d) => d.name === m.metadata.name)?.kind === 'gateway' ? 'Deployment' : 'Service'}/${m.metadata.name}`,
      ]);
    }
  });

  it('reaches METRICS_PORT on each pod, as Prometheus relabels the target', () => {
    const templates = podTemplates();
    for (const m of podMonitors()) {
      const pod = templates.find((t) => selects(m.spec.selector.matchLabels, t.labels)) as Json;
      const [endpoint, ...more] = m.spec.podMetricsEndpoints;
      expect(more).toEqual([]);
      expect(endpoint.path).toBe('/metrics');
      // The pod's scrape annotations (annotation-based scraping) agree with the PodMonitor.
      if (pod.kind === 'Deployment') {
        // The gateway declares the port: Prometheus keeps the target of that named port.
        const port = pod.spec.containers[0].ports.find((p: Json) => p.name === endpoint.port);
        expect(port?.containerPort, m.metadata.name).toBe(METRICS_PORT);
        expect(endpoint.relabelings).toBeUndefined();
      } else {
        // Knative renames the one declared port `user-port`; the address moves to METRICS_PORT.
        expect(pod.spec.containers[0].ports).toHaveLength(1);
        expect(endpoint.port).toBe(KNATIVE_USER_PORT);
        const address = endpoint.relabelings.filter((r: Json) => r.targetLabel === '__address__');
        expect(address).toHaveLength(1);
        const port = pod.spec.containers[0].ports[0].containerPort;
        expect(relabel(address[0], `10.1.2.3:${port}`)).toBe(`10.1.2.3:${METRICS_PORT}`);
        expect(relabel(address[0], `[fd00::1]:${port}`)).toBe(`[fd00::1]:${METRICS_PORT}`);
      }
    }
  });

  it('carries ops/prometheus/rules.yml unchanged, with every alert of the design', () => {
    const rule = committed().find((o) => o.kind === 'PrometheusRule') as Json;
    expect(rule.spec.groups).toEqual(parse(readFileSync(RULES_FILE, 'utf8')).groups);
    const alerts = rule.spec.groups.flatMap((g: Json) =>
      g.rules.filter((r: Json) => r.alert).map((r: Json) => r.alert),
    );
    for (const a of [
      'ParleyHighErrorRate',
      'ParleyHighLatencyP99',
      'ParleyConsumerLagHigh',
      'ParleyConsumerStalled',
      'ParleyDeadLetterGrowing',
      'ParleySlowReaderCloses',
      'ParleyShardDown',
      'ParleyScaleToZeroFlapping',
      'ParleyTargetDown',
    ])
      expect(alerts).toContain(a);
  });
});

describe('the overlays', () => {
  it('prod carries every monitoring object; dev none', () => {
    const names = (objs: Json[]) =>
      objs
        .filter((o) => o.apiVersion === 'monitoring.coreos.com/v1')
        .map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)
        .sort();
    const want = committed()
      .map((o) => `${o.kind}/${NAMESPACE}/${o.metadata.name}`)
      .sort();
    expect(names(fetched().prod)).toEqual(want);
    expect(names(fetched().dev)).toEqual([]);
  });
});
