/**
 * The Prometheus Operator objects, as the kustomize component knative/components/monitoring/
 * (generated with the base by `npm run manifests`; the prod overlay includes it):
 *
 * - a PodMonitor per deployable, from the deployment table. Why PodMonitors and not
 *   ServiceMonitors: `/metrics` is on the private METRICS_PORT (settings.ts), which no Service
 *   exposes. A ServiceMonitor would also add a `service` target label (the Kubernetes Service's
 *   name) that collides with the `service` label every Parley series carries. A PodMonitor adds
 *   `namespace`, `pod`, `container`, `endpoint` and `job` only;
 * - one PrometheusRule wrapping ops/prometheus/rules.yml unchanged (the file promtool checks),
 *   read when the component is generated, so a rule edit without `npm run manifests` makes the
 *   committed component stale (and the tests fail).
 *
 * Finding METRICS_PORT on a pod:
 * - the gateway's Deployment declares it as the container port `metrics`: `port: metrics`;
 * - a Knative Service declares one container port, the serving one, and Knative renames it
 *   `user-port` in the Revision's pods (knative.dev/serving pkg/reconciler/revision/resources,
 *   `buildContainerPorts`; v1.UserPortName). The endpoint keeps that port's target (so one target
 *   per pod, not one per queue-proxy port) and rewrites its address to the same pod IP and
 *   METRICS_PORT (`[host]:port` or `host:port`: the regex keeps an IPv6 host's brackets).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { DEPLOYMENTS, type Deployable } from '@parley/eventing/deployments';
import { parse, stringify } from 'yaml';
import { METRICS_PORT, NAMESPACE } from './settings';

export const MONITORING_API = 'monitoring.coreos.com/v1';
/** The generated component (relative paths in it are file names). */
export const MONITORING_DIR = fileURLToPath(new URL('../components/monitoring/', import.meta.url));
/** The Prometheus rules the PrometheusRule carries (owned by ops/, checked there by promtool). */
export const RULES_FILE = fileURLToPath(new URL('../../ops/prometheus/rules.yml', import.meta.url));

/** The port name Knative gives the serving port of a Revision's user container. */
export const KNATIVE_USER_PORT = 'user-port';
/** The gateway container's name for METRICS_PORT (knative/src/manifests.ts). */
export const GATEWAY_METRICS_PORT = 'metrics';

export type Monitoring = IPodMonitor | IPrometheusRule;

/** The `app.kubernetes.io/component` of a deployable's pods (manifests.ts `labels`). */
export const podComponentOf = (d: Deployable): string =>
  d.kind === 'gateway' ? 'gateway' : `${d.kind}-function`;

const labels = (name: string, component: string): Record<string, string> => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/part-of': 'parley',
});

/** The PodMonitor of one deployable: its serving pods (not its migration Job's), on METRICS_PORT. */
export function podMonitor(d: Deployable): IPodMonitor {
  const endpoint: IPodMonitor['spec']['podMetricsEndpoints'] =
    d.kind === 'gateway'
      ? [{ port: GATEWAY_METRICS_PORT, path: '/metrics' }]
      : [
          {
            port: KNATIVE_USER_PORT,
            path: '/metrics',
            relabelings: [
              // The user container's serving port, moved to the undeclared METRICS_PORT.
              {
                sourceLabels: ['__address__'],
                regex: '(.+):\\d+',
                targetLabel: '__address__',
                replacement: `\${1}:${METRICS_PORT}`,
                action: 'replace',
              },
              { targetLabel: 'endpoint', replacement: 'metrics', action: 'replace' },
            ],
          },
        ];
  return {
    apiVersion: MONITORING_API,
    kind: 'PodMonitor',
    metadata: { name: d.name, namespace: NAMESPACE, labels: labels(d.name, 'pod-monitor') },
    spec: {
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': d.name,
          'app.kubernetes.io/component': podComponentOf(d),
        },
      },
      podMetricsEndpoints: endpoint,
    },
  };
}

/** The Prometheus rule groups of ops/prometheus/rules.yml, as a PrometheusRule. */
export function prometheusRule(rulesYaml: string): IPrometheusRule {
  const parsed = parse(rulesYaml) as { groups?: IPrometheusRule['spec']['groups'] } | null;
  if (!parsed?.groups?.length) throw new Error(`${RULES_FILE} has no rule groups`);
  return {
    apiVersion: MONITORING_API,
    kind: 'PrometheusRule',
    metadata: {
      name: 'parley',
      namespace: NAMESPACE,
      labels: { 'app.kubernetes.io/name': 'parley', 'app.kubernetes.io/part-of': 'parley' },
    },
    spec: { groups: parsed.groups },
  };
}

export interface MonitoringFile {
  path: string;
  objects: Monitoring[];
}

/** The component's files (without kustomization.yaml). */
export function monitoringFiles(rulesYaml = readFileSync(RULES_FILE, 'utf8')): MonitoringFile[] {
  return [
    { path: 'pod-monitors.yaml', objects: (DEPLOYMENTS as readonly Deployable[]).map(podMonitor) },
    { path: 'prometheus-rules.yaml', objects: [prometheusRule(rulesYaml)] },
  ];
}

const HEADER = [
  '# Generated by `npm run manifests` (knative/src/monitoring.ts) from the deployment table',
  '# (eventing/src/deployments.ts) and ops/prometheus/rules.yml. Do not edit: change those or the',
  '# generator, then regenerate. The tests fail while this file is stale.',
].join('\n');

const toYaml = (objects: readonly object[]): string =>
  objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');

/** knative/components/monitoring/: file name → contents. */
export function renderMonitoring(rulesYaml?: string): Map<string, string> {
  const files = monitoringFiles(rulesYaml);
  const out = new Map<string, string>();
  for (const f of files) out.set(f.path, `${HEADER}\n${toYaml(f.objects)}`);
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1alpha1',
    kind: 'Component',
    resources: files.map((f) => f.path),
  };
  out.set('kustomization.yaml', `${HEADER}\n${stringify(kustomization, { lineWidth: 0 })}`);
  return out;
}
