/**
 * The Loki label scheme of docs/operations.md#logs, checked in the example collector configs of
 * ops/loki: promtail.yaml is parsed and its relabeling run on sample pod targets; config.alloy
 * is read as text (a light parse of its `rule` blocks and stages; Alloy itself is Apache-2.0 but
 * is not installed or run here; promtail and Loki are AGPL-3.0 and stay on the operator's side).
 * Both must promote exactly the documented labels, from the same pod metadata, and no ids.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');

/** The documented labels (docs/operations.md#logs): nothing else may become one. */
const LABELS = ['container', 'level', 'namespace', 'service'];
/** High-cardinality fields that must stay in the JSON line. */
const IDS = [
  'trace_id',
  'span_id',
  'ceId',
  'roomId',
  'userId',
  'sessionId',
  'messageId',
  'pod',
  'filename',
];

const RelabelSchema = z
  .object({
    source_labels: z.array(z.string()).optional(),
    separator: z.string().optional(),
    regex: z.string().optional(),
    replacement: z.string().optional(),
    target_label: z.string().optional(),
    action: z.enum(['replace', 'keep', 'drop']).optional(),
  })
  .strict();
type Relabel = z.infer<typeof RelabelSchema>;

const StageSchema = z.union([
  z.object({ cri: z.object({}).strict() }).strict(),
  z.object({ json: z.object({ expressions: z.record(z.string(), z.string()) }).strict() }).strict(),
  z.object({ labels: z.record(z.string(), z.string().nullable()) }).strict(),
  z.object({ labelallow: z.array(z.string()) }).strict(),
]);

const PromtailSchema = z.object({
  clients: z.array(z.object({ url: z.string().url() })).min(1),
  scrape_configs: z
    .array(
      z
        .object({
          job_name: z.string(),
          kubernetes_sd_configs: z.array(z.object({ role: z.literal('pod') }).passthrough()),
          relabel_configs: z.array(RelabelSchema),
          pipeline_stages: z.array(StageSchema),
        })
        .strict(),
    )
    .length(1),
});

/**
 * Prometheus relabeling (replace/keep/drop), enough to run the configs' rules on a target:
 * anchored regex, `;` separator, `$1` replacement; a replace whose regex does not match, or
 * whose result is empty, leaves the target label as it was (set) or unset.
 */
function relabel(target: Record<string, string>, rules: Relabel[]): Record<string, string> | null {
  const t = { ...target };
  for (const r of rules) {
    const value = (r.source_labels ?? []).map((l) => t[l] ?? '').join(r.separator ?? ';');
    const m = new RegExp(`^(?:${r.regex ?? '(.*)'})$`).exec(value);
    const action = r.action ?? 'replace';
    if (action === 'keep' && !m) return null;
    if (action === 'drop' && m) return null;
    if (action !== 'replace' || !m || !r.target_label) continue;
    const out = (r.replacement ?? '$1').replace(/\$(\d+)/g, (_, i) => m[Number(i)] ?? '');
    if (out === '') delete t[r.target_label];
    else t[r.target_label] = out;
  }
  return t;
}

/** The labels a target keeps after relabeling: Prometheus drops every `__`-prefixed one. */
const publicLabels = (t: Record<string, string>) =>
  Object.fromEntries(Object.entries(t).filter(([k]) => !k.startsWith('__')));

/** Pod targets as Kubernetes service discovery gives them. */
const knativePod = {
  __meta_kubernetes_namespace: 'parley',
  __meta_kubernetes_pod_name: 'message-write-00001-deployment-7d9f-x2x9z',
  __meta_kubernetes_pod_uid: '5f1c7e1a-0000-4000-8000-000000000001',
  __meta_kubernetes_pod_node_name: 'node-a',
  __meta_kubernetes_pod_container_name: 'user-container',
  __meta_kubernetes_pod_label_serving_knative_dev_service: 'message-write',
  __meta_kubernetes_pod_label_serving_knative_dev_revision: 'message-write-00001',
  __meta_kubernetes_pod_label_app_kubernetes_io_name: 'message-write',
  __meta_kubernetes_pod_label_app_kubernetes_io_part_of: 'parley',
};
const knativePodWithoutName = {
  ...knativePod,
  __meta_kubernetes_pod_label_app_kubernetes_io_name: '',
  __meta_kubernetes_pod_container_name: 'queue-proxy',
};
const gatewayPod = {
  __meta_kubernetes_namespace: 'parley',
  __meta_kubernetes_pod_name: 'connection-gateway-6c8b9-abcde',
  __meta_kubernetes_pod_uid: '5f1c7e1a-0000-4000-8000-000000000002',
  __meta_kubernetes_pod_node_name: 'node-b',
  __meta_kubernetes_pod_container_name: 'connection-gateway',
  __meta_kubernetes_pod_label_app_kubernetes_io_name: 'connection-gateway',
  __meta_kubernetes_pod_label_app_kubernetes_io_part_of: 'parley',
};
const foreignPod = {
  ...gatewayPod,
  __meta_kubernetes_pod_label_app_kubernetes_io_part_of: 'something-else',
};

describe('ops/loki/promtail.yaml', () => {
  const config = PromtailSchema.parse(parse(read('../loki/promtail.yaml')));
  const job = config.scrape_configs[0];
  if (!job) throw new Error('no scrape config');

  it('relabels a Knative pod to namespace, service, container, and tails its log files', () => {
    const t = relabel(knativePod, job.relabel_configs);
    expect(t && publicLabels(t)).toEqual({
      namespace: 'parley',
      service: 'message-write',
      container: 'user-container',
    });
    expect(t?.__path__).toBe(
      '/var/log/pods/*5f1c7e1a-0000-4000-8000-000000000001/user-container/*.log',
    );
    expect(t?.__host__).toBe('node-a');
  });

  it('falls back to the Knative Service name, keeps the gateway, drops pods not part of Parley', () => {
    const t = relabel(knativePodWithoutName, job.relabel_configs);
    expect(t && publicLabels(t)).toEqual({
      namespace: 'parley',
      service: 'message-write',
      container: 'queue-proxy',
    });
    const g = relabel(gatewayPod, job.relabel_configs);
    expect(g && publicLabels(g)).toMatchObject({ service: 'connection-gateway' });
    expect(relabel(foreignPod, job.relabel_configs)).toBeNull();
  });

  it('promotes only level from the line, and allows exactly the documented labels', () => {
    const stages = job.pipeline_stages;
    const labelStages = stages.flatMap((s) => ('labels' in s ? [Object.keys(s.labels)] : []));
    expect(labelStages).toEqual([['level']]);
    const json = stages.find((s) => 'json' in s);
    expect(json && 'json' in json ? json.json.expressions : {}).toEqual({ level: 'level' });
    // labelallow is the last stage: nothing after it can add a label back.
    const last = stages.at(-1);
    expect(last && 'labelallow' in last ? [...last.labelallow].sort() : []).toEqual(LABELS);
    // Every label the relabeling or the stages can set is a documented one.
    const set = new Set([
      ...job.relabel_configs.flatMap((r) => (r.target_label ? [r.target_label] : [])),
      ...labelStages.flat(),
    ]);
    expect([...set].filter((l) => !l.startsWith('__')).sort()).toEqual(LABELS);
    for (const id of IDS) expect(set.has(id)).toBe(false);
  });
});

/** The `rule { … }` blocks of config.alloy's discovery.relabel, as relabel rules. */
function alloyRules(text: string): Relabel[] {
  const relabel = /discovery\.relabel\s+"[^"]+"\s*\{([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
  return [...relabel.matchAll(/rule\s*\{([^}]*)\}/g)].map(([, body = '']) => {
    const str = (key: string) => new RegExp(`${key}\\s*=\\s*"([^"]*)"`).exec(body)?.[1];
    const list = /source_labels\s*=\s*\[([^\]]*)\]/.exec(body)?.[1];
    const rule: Relabel = {};
    if (list) rule.source_labels = [...list.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
    for (const key of ['separator', 'regex', 'replacement', 'target_label'] as const) {
      const v = str(key);
      if (v !== undefined) rule[key] = v;
    }
    const action = str('action');
    if (action) rule.action = RelabelSchema.shape.action.unwrap().parse(action);
    return rule;
  });
}

describe('ops/loki/config.alloy (text checks: Alloy is not run here)', () => {
  const text = read('../loki/config.alloy');
  const promtail = PromtailSchema.parse(parse(read('../loki/promtail.yaml'))).scrape_configs[0];
  const rules = alloyRules(text);

  it('chains discovery.kubernetes → discovery.relabel → loki.source.kubernetes → loki.process → loki.write', () => {
    expect(text).toMatch(/discovery\.kubernetes "pods" \{[\s\S]*?role\s*=\s*"pod"/);
    expect(text).toMatch(/targets\s*=\s*discovery\.kubernetes\.pods\.targets/);
    expect(text).toMatch(
      /loki\.source\.kubernetes "parley" \{[\s\S]*?targets\s*=\s*discovery\.relabel\.parley\.output/,
    );
    expect(text).toMatch(/forward_to\s*=\s*\[loki\.process\.parley\.receiver\]/);
    expect(text).toMatch(/forward_to\s*=\s*\[loki\.write\.default\.receiver\]/);
    expect(text).toMatch(
      /loki\.write "default" \{[\s\S]*?url\s*=\s*"https?:\/\/[^"]+\/loki\/api\/v1\/push"/,
    );
  });

  it('relabels pods to the same labels as promtail.yaml', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const pod of [knativePod, knativePodWithoutName, gatewayPod, foreignPod]) {
      const a = relabel(pod, rules);
      const p = relabel(pod, promtail?.relabel_configs ?? []);
      expect(a && publicLabels(a)).toEqual(p && publicLabels(p));
    }
  });

  it('promotes only level from the line and keeps exactly the documented labels', () => {
    expect(text).toMatch(/stage\.json\s*\{\s*expressions\s*=\s*\{\s*level\s*=\s*"level"\s*\}\s*\}/);
    const labels = /stage\.labels\s*\{\s*values\s*=\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';
    expect([...labels.matchAll(/(\w+)\s*=/g)].map((m) => m[1])).toEqual(['level']);
    const keep = /stage\.label_keep\s*\{\s*values\s*=\s*\[([^\]]*)\]/.exec(text)?.[1] ?? '';
    expect([...keep.matchAll(/"([^"]*)"/g)].map((m) => m[1]).sort()).toEqual(LABELS);
    const targets = rules.flatMap((r) => (r.target_label ? [r.target_label] : []));
    for (const id of IDS) expect(targets).not.toContain(id);
  });
});

describe('docs/operations.md#logs and the Grafana derived field', () => {
  it('documents exactly these labels in its table', () => {
    const doc = read('../../docs/operations.md');
    const section = /\n## Logs\n([\s\S]*?)\n## /.exec(doc)?.[1] ?? '';
    const rows = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual(LABELS);
  });

  it('links a logged trace_id to the Jaeger datasource', () => {
    const ds = z
      .object({
        datasources: z.array(
          z.object({
            type: z.string(),
            uid: z.string(),
            jsonData: z
              .object({
                derivedFields: z.array(
                  z.object({
                    name: z.string(),
                    matcherRegex: z.string(),
                    datasourceUid: z.string(),
                    url: z.string(),
                  }),
                ),
              })
              .optional(),
          }),
        ),
      })
      .parse(parse(read('../loki/grafana-datasources.yaml')));
    const loki = ds.datasources.find((d) => d.type === 'loki');
    const field = loki?.jsonData?.derivedFields.find((f) => f.name === 'trace_id');
    const jaeger = ds.datasources.find((d) => d.type === 'jaeger');
    expect(field?.datasourceUid).toBe(jaeger?.uid);
    // A line as runtime/src/logger.ts writes it inside a span.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const line = `{"level":"info","time":"2026-01-01T00:00:00.000Z","service":"message-write","ceId":"e1","msg":"message stored","trace_id":"${traceId}","span_id":"00f067aa0ba902b7","trace_flags":"01"}`;
    expect(new RegExp(field?.matcherRegex ?? '$^').exec(line)?.[1]).toBe(traceId);
    expect(new RegExp(field?.matcherRegex ?? '$^').exec('{"msg":"no span"}')).toBeNull();
  });
});
