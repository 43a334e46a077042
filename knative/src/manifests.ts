/**
 * The kustomize base, built from the deployment table (eventing/src/deployments.ts) and the event
 * catalog (eventing/src/catalog.ts). Pure: `renderBase()` returns the files; generate.ts writes them
 * and the tests compare them with what is committed.
 *
 * What each deployable becomes:
 * - function (http / cloudevent): a Knative Service; its `migrate` step a Job;
 * - cloudevent function: a KafkaSource per trigger topic (its consumer group, the table's
 *   `spec.ordering`, the stand-in's retry policy, dead letters to a KafkaSink for `<topic>.dlq`);
 * - a function with K_SINK: a SinkBinding pointing it at the KafkaSink of its `emits` topic;
 * - gateway: Deployment + Service + HorizontalPodAutoscaler + PodDisruptionBudget;
 * and every pod serves `/metrics` on the private METRICS_PORT only (settings.ts), annotated for
 * Prometheus and never exposed by a Service or a route;
 * and once: the namespace, the ConfigMap, a Strimzi KafkaTopic per topic and dead-letter topic, the
 * KafkaSinks.
 */

import type { IService as IKnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1/Service';
import { deadLetterTopic, TOPIC_PARTITIONS, TOPICS } from '@parley/eventing/catalog';
import {
  type CloudEventFunctionDeployable,
  DEPLOYMENTS,
  type Deployable,
  ENV,
  type EnvName,
  type GatewayDeployable,
  sourcesOf,
  type TriggerSource,
} from '@parley/eventing/deployments';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1EnvVar } from 'kubernetes-models/v1/EnvVar';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IIoK8sApiCoreV1SecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IService } from 'kubernetes-models/v1/Service';
import { stringify } from 'yaml';
import {
  AUTOSCALING,
  CONFIG_MAP_NAME,
  CONFIG_VALUES,
  CONTAINER_PORT,
  DELIVERY,
  deliveryOf,
  FUNCTION_TIMEOUT_SECONDS,
  GATEWAY,
  gatewayGracePeriodSeconds,
  isoDuration,
  KAFKA_BOOTSTRAP,
  KAFKA_CLUSTER,
  METRICS_PORT,
  MIGRATE,
  NAMESPACE,
  RESOURCES,
  RUN_AS,
  SCALE_TO_ZERO_RETENTION,
  SECRET_NAME,
  TOPIC,
} from './settings';

// ---------------------------------------------------------------------------------------------
// The custom resources without a TypeScript model (their CRDs validate them in the tests).

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface KReference {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface KafkaSource {
  apiVersion: 'sources.knative.dev/v1beta1';
  kind: 'KafkaSource';
  metadata: Meta;
  spec: {
    bootstrapServers: string[];
    topics: string[];
    consumerGroup: string;
    initialOffset: 'earliest' | 'latest';
    ordering: 'ordered' | 'unordered';
    sink: { ref: KReference };
    delivery: {
      retry: number;
      backoffPolicy: 'exponential' | 'linear';
      backoffDelay: string;
      timeout: string;
      deadLetterSink: { ref: KReference };
    };
  };
}

export interface KafkaSink {
  apiVersion: 'eventing.knative.dev/v1alpha1';
  kind: 'KafkaSink';
  metadata: Meta;
  spec: { topic: string; bootstrapServers: string[]; contentMode: 'binary' | 'structured' };
}

export interface SinkBinding {
  apiVersion: 'sources.knative.dev/v1';
  kind: 'SinkBinding';
  metadata: Meta;
  spec: { subject: KReference; sink: { ref: KReference } };
}

export interface KafkaTopic {
  apiVersion: 'kafka.strimzi.io/v1';
  kind: 'KafkaTopic';
  metadata: Meta;
  spec: { topicName: string; partitions: number; replicas: number; config: Record<string, string> };
}

export type Manifest =
  | INamespace
  | IConfigMap
  | IKnativeService
  | IDeployment
  | IService
  | IHorizontalPodAutoscaler
  | IPodDisruptionBudget
  | IJob
  | KafkaSource
  | KafkaSink
  | SinkBinding
  | KafkaTopic;

// ---------------------------------------------------------------------------------------------
// Names and labels.

export const KNATIVE_SERVING = 'serving.knative.dev/v1';
export const KAFKA_SINK_API = 'eventing.knative.dev/v1alpha1';

/** A topic's Kubernetes name (KafkaTopic, KafkaSink): dots become dashes. */
export const topicResourceName = (topic: string): string => topic.replaceAll('.', '-');

/** The image of a deployable; overlays set the registry and tag (kustomize `images:`). */
export const imageOf = (name: string): string => `parley/${name}`;

/**
 * On what must exist before the functions start: the namespace, the ConfigMap, the topics and the
 * migration Jobs. knative/deploy.sh applies these first and waits for the Jobs.
 */
export const SETUP_STAGE = { 'parley.dev/stage': 'setup' } as const;

const labels = (name: string, component: string): Record<string, string> => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/part-of': 'parley',
});

/**
 * Prometheus scrapes a pod on its private metrics port, at the pod's address (annotation-based
 * scraping; the same port for a PodMonitor). `parley.dev/private-ports` names the ports the pod
 * listens on that no Service, Knative route or ingress reaches.
 */
const scrape = {
  'prometheus.io/scrape': 'true',
  'prometheus.io/port': String(METRICS_PORT),
  'prometheus.io/path': '/metrics',
  'parley.dev/private-ports': `metrics=${METRICS_PORT}`,
};

/** Variables the platform sets; never in a manifest's env (PORT by Knative, K_SINK by a SinkBinding). */
export const platformEnv = (names: readonly EnvName[]): EnvName[] =>
  names.filter((n) => ENV[n].source === 'platform');

/** The container env for the table's variables: secret → Secret key, config → ConfigMap key, container → value. */
export function envOf(names: readonly EnvName[]): IIoK8sApiCoreV1EnvVar[] {
  const env: IIoK8sApiCoreV1EnvVar[] = [];
  for (const name of names) {
    const { source } = ENV[name];
    if (source === 'platform') continue;
    if (source === 'secret')
      env.push({ name, valueFrom: { secretKeyRef: { name: SECRET_NAME, key: name } } });
    else if (source === 'config')
      env.push({ name, valueFrom: { configMapKeyRef: { name: CONFIG_MAP_NAME, key: name } } });
    else env.push({ name, value: containerValue(name) });
  }
  return env;
}

function containerValue(name: EnvName): string {
  if (name === 'HOST') return '0.0.0.0';
  if (name === 'METRICS_PORT') return String(METRICS_PORT);
  throw new Error(`no container value for ${name}: add it to knative/src/manifests.ts`);
}

const containerSecurity: IIoK8sApiCoreV1SecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

// ---------------------------------------------------------------------------------------------
// One deployable.

type FunctionDeployable = Exclude<Deployable, GatewayDeployable>;

function knativeService(fn: FunctionDeployable): IKnativeService {
  const tuning = AUTOSCALING[fn.kind];
  const scaleToZero = fn.scaling === 'scale-to-zero';
  return {
    apiVersion: KNATIVE_SERVING,
    kind: 'Service',
    metadata: {
      name: fn.name,
      labels: {
        ...labels(fn.name, `${fn.kind}-function`),
        // Reached only from inside the cluster (the gateway, the KafkaSource); never from outside.
        'networking.knative.dev/visibility': 'cluster-local',
      },
      annotations: { 'parley.dev/scaling': fn.scaling, 'parley.dev/scaling-why': fn.scalingWhy },
    },
    spec: {
      template: {
        metadata: {
          labels: labels(fn.name, `${fn.kind}-function`),
          annotations: {
            'autoscaling.knative.dev/class': 'kpa.autoscaling.knative.dev',
            'autoscaling.knative.dev/metric': 'concurrency',
            'autoscaling.knative.dev/target': String(tuning.target),
            'autoscaling.knative.dev/min-scale': scaleToZero ? '0' : '1',
            'autoscaling.knative.dev/max-scale': String(tuning.maxScale),
            ...(scaleToZero
              ? {
                  'autoscaling.knative.dev/scale-to-zero-pod-retention-period':
                    SCALE_TO_ZERO_RETENTION,
                }
              : {}),
            ...scrape,
          },
        },
        spec: {
          containerConcurrency: tuning.containerConcurrency,
          timeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
          containers: [
            {
              name: fn.name,
              image: imageOf(fn.name),
              // The one port Knative routes to. METRICS_PORT is served too, undeclared (Knative
              // takes one port per Service): only Prometheus reaches it, at the pod's address.
              ports: [{ name: 'http1', containerPort: CONTAINER_PORT }],
              env: envOf(fn.env),
              resources: structuredClone(RESOURCES.function),
              // Without periodSeconds Knative probes readiness aggressively at start (fast cold starts).
              readinessProbe: { httpGet: { path: '/readyz', port: CONTAINER_PORT } },
              livenessProbe: {
                httpGet: { path: '/healthz', port: CONTAINER_PORT },
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              securityContext: structuredClone(containerSecurity),
            },
          ],
        },
      },
    },
  };
}

/** One KafkaSource per trigger topic (sourcesOf): one dead-letter sink each, `<topic>.dlq`. */
function kafkaSource(fn: CloudEventFunctionDeployable, source: TriggerSource): KafkaSource {
  const { topic } = source;
  return {
    apiVersion: 'sources.knative.dev/v1beta1',
    kind: 'KafkaSource',
    metadata: {
      name: source.name,
      labels: labels(fn.name, 'kafka-source'),
      // Read by older data planes; `spec.ordering` by current ones. Both from the table.
      annotations: { 'kafka.eventing.knative.dev/delivery.order': source.ordering },
    },
    spec: {
      bootstrapServers: [KAFKA_BOOTSTRAP],
      topics: [topic],
      consumerGroup: source.consumerGroup,
      initialOffset: DELIVERY.initialOffset,
      ordering: source.ordering,
      sink: { ref: { apiVersion: KNATIVE_SERVING, kind: 'Service', name: fn.name } },
      delivery: {
        retry: deliveryOf(fn).retry,
        backoffPolicy: deliveryOf(fn).backoffPolicy,
        backoffDelay: isoDuration(deliveryOf(fn).backoffDelayMs),
        timeout: isoDuration(deliveryOf(fn).timeoutMs),
        deadLetterSink: {
          ref: {
            apiVersion: KAFKA_SINK_API,
            kind: 'KafkaSink',
            name: topicResourceName(deadLetterTopic(topic)),
          },
        },
      },
    },
  };
}

function sinkBinding(fn: CloudEventFunctionDeployable): SinkBinding {
  if (!fn.emits) throw new Error(`${fn.name} reads K_SINK but the table names no \`emits\` topic`);
  return {
    apiVersion: 'sources.knative.dev/v1',
    kind: 'SinkBinding',
    metadata: { name: fn.name, labels: labels(fn.name, 'sink-binding') },
    spec: {
      subject: { apiVersion: KNATIVE_SERVING, kind: 'Service', name: fn.name },
      sink: {
        ref: { apiVersion: KAFKA_SINK_API, kind: 'KafkaSink', name: topicResourceName(fn.emits) },
      },
    },
  };
}

function migrationJob(d: Deployable): IJob | undefined {
  if (!d.migrate) return undefined;
  const name = `${d.name}-migrate`;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { ...labels(d.name, 'migration'), ...SETUP_STAGE } },
    spec: {
      backoffLimit: MIGRATE.backoffLimit,
      activeDeadlineSeconds: MIGRATE.activeDeadlineSeconds,
      template: {
        metadata: { labels: labels(d.name, 'migration') },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'migrate',
              image: imageOf(d.name),
              command: [...MIGRATE.command],
              env: envOf(d.migrate.env),
              resources: structuredClone(RESOURCES.migrate),
              securityContext: structuredClone(containerSecurity),
            },
          ],
        },
      },
    },
  };
}

function gateway(g: GatewayDeployable): Manifest[] {
  const selector = { 'app.kubernetes.io/name': g.name };
  const drainMs = Number(CONFIG_VALUES.DRAIN_TIMEOUT_MS);
  const env = envOf(g.env);
  // No Knative here: the Deployment sets PORT itself, to the port it exposes.
  if (g.env.includes('PORT')) env.unshift({ name: 'PORT', value: String(CONTAINER_PORT) });
  const container: IIoK8sApiCoreV1Container = {
    name: g.name,
    image: imageOf(g.name),
    // `metrics` is private: the Service below exposes `http` only.
    ports: [
      { name: 'http', containerPort: CONTAINER_PORT },
      { name: 'metrics', containerPort: METRICS_PORT },
    ],
    env,
    resources: structuredClone(RESOURCES.gateway),
    readinessProbe: {
      httpGet: { path: '/readyz', port: 'http' },
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 2,
    },
    livenessProbe: {
      httpGet: { path: '/healthz', port: 'http' },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    // Keep serving while the endpoint removal propagates; SIGTERM (the drain) comes after.
    lifecycle: { preStop: { sleep: { seconds: GATEWAY.preStopSleepSeconds } } },
    securityContext: structuredClone(containerSecurity),
  };
  const deployment: IDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: g.name,
      labels: labels(g.name, 'gateway'),
      annotations: { 'parley.dev/scaling': g.scaling, 'parley.dev/scaling-why': g.scalingWhy },
    },
    spec: {
      // No replicas: the HPA owns them (an applied count would reset its scaling).
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(g.name, 'gateway'), annotations: { ...scrape } },
        spec: {
          terminationGracePeriodSeconds: gatewayGracePeriodSeconds(drainMs),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS,
            runAsGroup: RUN_AS,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            },
          ],
          containers: [container],
        },
      },
    },
  };
  const service: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: g.name, labels: labels(g.name, 'gateway') },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  const hpa: IHorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: g.name, labels: labels(g.name, 'gateway') },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: g.name },
      minReplicas: GATEWAY.minReplicas,
      maxReplicas: GATEWAY.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: GATEWAY.cpuUtilization },
          },
        },
      ],
      // Scaling down closes sockets (clients reconnect elsewhere): do it slowly, one pod at a time.
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: 600,
          policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }],
        },
      },
    },
  };
  const pdb: IPodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: g.name, labels: labels(g.name, 'gateway') },
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };
  return [deployment, service, hpa, pdb];
}

/** Everything one deployable needs, in apply order. */
export function deployableManifests(d: Deployable): Manifest[] {
  const out: Manifest[] = [];
  const job = migrationJob(d);
  if (d.kind === 'gateway') {
    out.push(...gateway(d));
  } else {
    // The SinkBinding first: its webhook then injects K_SINK into the Service's first revision.
    if ((d.env as readonly EnvName[]).includes('K_SINK')) {
      if (d.kind !== 'cloudevent') throw new Error(`${d.name} reads K_SINK but has no \`emits\``);
      out.push(sinkBinding(d));
    }
    out.push(knativeService(d));
    if (d.kind === 'cloudevent') out.push(...sourcesOf(d).map((x) => kafkaSource(d, x)));
  }
  if (job) out.push(job);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared objects.

function namespace(): INamespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: NAMESPACE,
      labels: {
        'app.kubernetes.io/part-of': 'parley',
        ...SETUP_STAGE,
        // SinkBinding's webhook acts here whether Eventing runs in inclusion or exclusion mode.
        'bindings.knative.dev/include': 'true',
      },
    },
  };
}

/** The `config` variables any deployable or migration step reads, in table order. */
export function configKeys(): EnvName[] {
  const keys = new Set<EnvName>();
  for (const d of DEPLOYMENTS as readonly Deployable[])
    for (const n of [...d.env, ...(d.migrate?.env ?? [])])
      if (ENV[n].source === 'config') keys.add(n);
  return [...keys];
}

/** The `secret` variables any deployable or migration step reads: the keys of parley-secrets. */
export function secretKeys(): EnvName[] {
  const keys = new Set<EnvName>();
  for (const d of DEPLOYMENTS as readonly Deployable[])
    for (const n of [...d.env, ...(d.migrate?.env ?? [])])
      if (ENV[n].source === 'secret') keys.add(n);
  return [...keys];
}

function configMap(): IConfigMap {
  const data: Record<string, string> = {};
  for (const key of configKeys()) data[key] = CONFIG_VALUES[key as keyof typeof CONFIG_VALUES];
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: CONFIG_MAP_NAME,
      labels: { 'app.kubernetes.io/part-of': 'parley', ...SETUP_STAGE },
    },
    data,
  };
}

/** Every catalog topic and its dead-letter topic. */
export function allTopics(): { topic: string; deadLetter: boolean }[] {
  return Object.values(TOPICS).flatMap((topic) => [
    { topic, deadLetter: false },
    { topic: deadLetterTopic(topic), deadLetter: true },
  ]);
}

function kafkaTopics(): KafkaTopic[] {
  return allTopics().map(({ topic, deadLetter }) => ({
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaTopic',
    metadata: {
      name: topicResourceName(topic),
      labels: {
        'strimzi.io/cluster': KAFKA_CLUSTER,
        'app.kubernetes.io/part-of': 'parley',
        ...SETUP_STAGE,
      },
    },
    spec: {
      topicName: topic,
      // Per-room order: one room is one key is one partition; see docs/operations.md.
      partitions: TOPIC_PARTITIONS,
      replicas: TOPIC.replicas,
      config: { ...(deadLetter ? TOPIC.deadLetterConfig : TOPIC.config) },
    },
  }));
}

/** A KafkaSink per `emits` topic and per dead-letter topic of a KafkaSource. */
export function sinkTopics(): string[] {
  const topics = new Set<string>();
  for (const d of DEPLOYMENTS as readonly Deployable[]) {
    if (d.kind !== 'cloudevent') continue;
    if (d.emits) topics.add(d.emits);
    for (const t of d.trigger.topics) topics.add(deadLetterTopic(t));
  }
  return [...topics].sort();
}

function kafkaSinks(): KafkaSink[] {
  return sinkTopics().map((topic) => ({
    apiVersion: KAFKA_SINK_API,
    kind: 'KafkaSink',
    metadata: {
      name: topicResourceName(topic),
      labels: labels(topicResourceName(topic), 'kafka-sink'),
    },
    // No numPartitions/replicationFactor: the topics are the KafkaTopics' (the sink creates none).
    spec: { topic, bootstrapServers: [KAFKA_BOOTSTRAP], contentMode: 'binary' },
  }));
}

// ---------------------------------------------------------------------------------------------
// Files.

export interface BaseFile {
  /** Relative to knative/base/. */
  path: string;
  objects: Manifest[];
}

/** The base's files (without kustomization.yaml), in apply order. */
export function baseFiles(): BaseFile[] {
  return [
    { path: 'namespace.yaml', objects: [namespace()] },
    { path: 'config.yaml', objects: [configMap()] },
    { path: 'kafka-topics.yaml', objects: kafkaTopics() },
    { path: 'kafka-sinks.yaml', objects: kafkaSinks() },
    ...(DEPLOYMENTS as readonly Deployable[]).map((d) => ({
      path: `${d.name}.yaml`,
      objects: deployableManifests(d),
    })),
  ];
}

const HEADER = [
  '# Generated by `npm run manifests` (knative/src/generate.ts) from the deployment table',
  '# (eventing/src/deployments.ts) and the event catalog (eventing/src/catalog.ts). Do not edit:',
  '# change those or the generator, then regenerate. The tests fail while this file is stale.',
].join('\n');

export const toYaml = (objects: readonly object[]): string =>
  objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');

/** knative/base/: file name → contents. */
export function renderBase(): Map<string, string> {
  const files = baseFiles();
  const out = new Map<string, string>();
  for (const f of files) out.set(f.path, `${HEADER}\n${toYaml(f.objects)}`);
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: NAMESPACE,
    // Apply in the order listed: namespace, config, topics, sinks, then each deployable
    // (its SinkBinding before its Service).
    sortOptions: { order: 'fifo' },
    resources: files.map((f) => f.path),
  };
  out.set('kustomization.yaml', `${HEADER}\n${stringify(kustomization, { lineWidth: 0 })}`);
  return out;
}
