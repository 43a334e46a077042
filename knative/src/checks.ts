/**
 * Cross-checks of a set of manifests (the base, or an overlay rendered by kustomize) against the
 * deployment table, the event catalog and the local KafkaSource stand-in. Each returns the problems
 * it finds, in words; the tests expect none. Also the few rules of Knative's admission webhook that
 * the CRD schema cannot express and that these manifests could break.
 */
import {
  deadLetterTopic,
  TOPIC_PARTITIONS,
  TOPICS,
  withDeadLetterTopics,
} from '@parley/eventing/catalog';
import { backoffMs, DEFAULT_DELIVERY } from '@parley/eventing/delivery-policy';
import {
  CLOUDEVENT_FUNCTIONS,
  DEPLOYMENTS,
  type Deployable,
  ENV,
  type EnvName,
  sourcesOf,
  type TriggerSource,
  URL_ENV,
} from '@parley/eventing/deployments';
import {
  CONFIG_MAP_NAME,
  CONTAINER_PORT,
  deliveryOf,
  GATEWAY,
  isoDuration,
  KNATIVE_RESERVED_PORTS,
  SECRET_NAME,
  serviceUrl,
} from './settings';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any kind, walked by known paths
type Json = Record<string, any>;

const TABLE = DEPLOYMENTS as readonly Deployable[];
const nameOf = (o: Json): string => o.metadata?.name;
const find = (objs: readonly Json[], apiVersion: string, kind: string, name?: string) =>
  objs.filter(
    (o) =>
      o.apiVersion === apiVersion && o.kind === kind && (name === undefined || nameOf(o) === name),
  );
const sameSet = (a: Iterable<string>, b: Iterable<string>) => {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
};
const list = (xs: Iterable<string>) => `[${[...xs].sort().join(', ')}]`;

/** An image reference without its tag or digest: `r:5000/parley/x:1.0@sha256:…` → `r:5000/parley/x`. */
const imageRepo = (image: unknown): string =>
  String(image ?? '')
    .replace(/@.*$/, '')
    .replace(/:[^/:]+$/, '');

/** The one container of a pod template (Knative Service, Deployment, Job). */
const containerOf = (o: Json): Json | undefined => o.spec?.template?.spec?.containers?.[0];

/** Problems of one container's env against the table's variable list. */
export function checkEnv(
  where: string,
  container: Json | undefined,
  table: readonly EnvName[],
): string[] {
  if (!container) return [`${where}: no container`];
  const problems: string[] = [];
  const env: Json[] = container.env ?? [];
  const names = env.map((e) => e.name as string);
  const dupes = names.filter((n, i) => names.indexOf(n) !== i);
  if (dupes.length) problems.push(`${where}: env set twice: ${list(dupes)}`);
  const platform = table.filter((n) => ENV[n].source === 'platform');
  const got = new Set([...names, ...platform]);
  if (!sameSet(got, table))
    problems.push(
      `${where}: env + platform-injected is ${list(got)}, the table says ${list(table)}`,
    );
  for (const e of env) {
    const def = ENV[e.name as EnvName];
    if (!def) continue;
    const v = `${where}: env ${e.name}`;
    if (def.source === 'secret') {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref?.name !== SECRET_NAME || ref?.key !== e.name)
        problems.push(`${v} must come from Secret ${SECRET_NAME} key ${e.name}`);
    } else if (def.source === 'config') {
      const ref = e.valueFrom?.configMapKeyRef;
      if (ref?.name !== CONFIG_MAP_NAME || ref?.key !== e.name)
        problems.push(`${v} must come from ConfigMap ${CONFIG_MAP_NAME} key ${e.name}`);
    } else if (def.source === 'container') {
      if (typeof e.value !== 'string' || e.valueFrom) problems.push(`${v} must be a literal value`);
    } else if (!(e.name === 'PORT' && where.startsWith('Deployment'))) {
      // Platform variables: only the gateway's Deployment (no Knative there) sets PORT itself.
      problems.push(`${v} is injected by the platform and must not be set`);
    }
  }
  if (names.includes('HOST') && env.find((e) => e.name === 'HOST')?.value !== '0.0.0.0')
    problems.push(`${where}: HOST must be 0.0.0.0 in a container`);
  return problems;
}

/**
 * The private metrics port of a pod template (Knative Service or Deployment): the container reads
 * METRICS_PORT, a literal port other than the serving one, and the scrape annotations name that
 * port, so Prometheus finds `/metrics` where the process serves it and nowhere else.
 */
export function checkMetricsPort(where: string, template: Json | undefined): string[] {
  const c: Json = template?.spec?.containers?.[0] ?? {};
  const value = (c.env ?? []).find((e: Json) => e.name === 'METRICS_PORT')?.value;
  const port = Number(value);
  if (value === undefined || !Number.isInteger(port) || port < 1 || port > 65_535)
    return [`${where}: METRICS_PORT must be set to a port (else /metrics is not served)`];
  const problems: string[] = [];
  if (port === CONTAINER_PORT)
    problems.push(`${where}: METRICS_PORT must not be the serving port ${CONTAINER_PORT}`);
  const ann: Json = template?.metadata?.annotations ?? {};
  const want = {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(port),
    'prometheus.io/path': '/metrics',
    'parley.dev/private-ports': `metrics=${port}`,
  };
  for (const [k, v] of Object.entries(want))
    if (ann[k] !== v) problems.push(`${where}: annotation ${k} must be ${v}, is ${ann[k]}`);
  return problems;
}

/** Knative's admission webhook rules that the CRD schema does not hold (pkg/apis/serving). */
function checkKnativeService(svc: Json): string[] {
  const where = `Knative Service ${nameOf(svc)}`;
  const problems: string[] = [];
  const spec = svc.spec?.template?.spec ?? {};
  const containers: Json[] = spec.containers ?? [];
  if (containers.length !== 1) problems.push(`${where}: one container expected`);
  const c = containers[0] ?? {};
  const ports: Json[] = c.ports ?? [];
  if (ports.length !== 1 || ports[0]?.containerPort !== CONTAINER_PORT)
    problems.push(`${where}: one port, ${CONTAINER_PORT} (what Knative sets PORT to)`);
  if (!['http1', 'h2c', '', undefined].includes(ports[0]?.name))
    problems.push(`${where}: port name must be http1 or h2c`);
  for (const e of c.env ?? [])
    if (['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION'].includes(e.name))
      problems.push(`${where}: ${e.name} is reserved by Knative`);
  // The queue-proxy shares the pod's network: the user container must not listen on its ports.
  const metricsPort = Number((c.env ?? []).find((e: Json) => e.name === 'METRICS_PORT')?.value);
  if (KNATIVE_RESERVED_PORTS.includes(metricsPort))
    problems.push(`${where}: METRICS_PORT ${metricsPort} is a port Knative's queue-proxy takes`);
  for (const [probe, path] of [
    ['readinessProbe', '/readyz'],
    ['livenessProbe', '/healthz'],
  ] as const) {
    const get = c[probe]?.httpGet;
    if (get?.path !== path) problems.push(`${where}: ${probe} must GET ${path}`);
    if (get?.port !== undefined && get.port !== CONTAINER_PORT)
      problems.push(`${where}: ${probe} port must be the container port`);
  }
  const rp = c.readinessProbe ?? {};
  if (!rp.periodSeconds && (rp.failureThreshold || rp.timeoutSeconds))
    problems.push(
      `${where}: failureThreshold/timeoutSeconds are disallowed when periodSeconds is 0`,
    );
  const ann: Json = svc.spec?.template?.metadata?.annotations ?? {};
  const min = Number(ann['autoscaling.knative.dev/min-scale']);
  const max = Number(ann['autoscaling.knative.dev/max-scale'] ?? Number.POSITIVE_INFINITY);
  if (!Number.isInteger(min) || min < 0)
    problems.push(`${where}: min-scale must be an integer ≥ 0`);
  if (max !== 0 && min > max) problems.push(`${where}: min-scale ${min} > max-scale ${max}`);
  const cc = spec.containerConcurrency;
  if (cc !== undefined && (cc < 0 || cc > 1000))
    problems.push(`${where}: containerConcurrency 0–1000`);
  if (svc.metadata?.annotations?.['autoscaling.knative.dev/min-scale'])
    problems.push(`${where}: scale annotations belong on spec.template.metadata`);
  return problems;
}

/**
 * Everything the table and the catalog say, checked in `objs`. `opts.scaling` is false for an
 * overlay that may change min-scale on purpose (dev: all to zero; prod: more for message-write).
 */
export function checkAgainstTable(
  objs: readonly Json[],
  opts: { scaling?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const scaling = opts.scaling ?? true;
  const ksvcs = find(objs, 'serving.knative.dev/v1', 'Service');
  const sources = find(objs, 'sources.knative.dev/v1beta1', 'KafkaSource');
  const sinks = find(objs, 'eventing.knative.dev/v1alpha1', 'KafkaSink');
  const bindings = find(objs, 'sources.knative.dev/v1', 'SinkBinding');
  const topics = find(objs, 'kafka.strimzi.io/v1', 'KafkaTopic');
  const jobs = find(objs, 'batch/v1', 'Job');
  const configMaps = find(objs, 'v1', 'ConfigMap', CONFIG_MAP_NAME);
  const config: Json = configMaps[0]?.data ?? {};
  if (configMaps.length !== 1) problems.push(`one ConfigMap ${CONFIG_MAP_NAME} expected`);
  if (find(objs, 'v1', 'Secret').length) problems.push('no Secret may be committed');

  const sinkOfTopic = new Map<string, string>(sinks.map((s) => [s.spec?.topic, nameOf(s)]));
  const functions = TABLE.filter((d) => d.kind !== 'gateway');

  // One Knative Service per function, nothing else.
  if (
    !sameSet(
      ksvcs.map(nameOf),
      functions.map((d) => d.name),
    )
  )
    problems.push(
      `Knative Services ${list(ksvcs.map(nameOf))} ≠ functions ${list(functions.map((d) => d.name))}`,
    );

  for (const d of TABLE) {
    if (d.kind === 'gateway') {
      const dep = find(objs, 'apps/v1', 'Deployment', d.name)[0];
      if (!dep) {
        problems.push(`gateway ${d.name}: no Deployment`);
        continue;
      }
      for (const [api, kind] of [
        ['v1', 'Service'],
        ['autoscaling/v2', 'HorizontalPodAutoscaler'],
        ['policy/v1', 'PodDisruptionBudget'],
      ] as const)
        if (!find(objs, api, kind, d.name).length) problems.push(`gateway ${d.name}: no ${kind}`);
      problems.push(...checkEnv(`Deployment ${d.name}`, containerOf(dep), d.env));
      problems.push(...checkGateway(objs, dep, config));
      continue;
    }
    const svc = ksvcs.find((s) => nameOf(s) === d.name);
    if (!svc) continue;
    problems.push(...checkEnv(`Knative Service ${d.name}`, containerOf(svc), d.env));
    problems.push(...checkKnativeService(svc));
    problems.push(...checkMetricsPort(`Knative Service ${d.name}`, svc.spec?.template));
    if (!imageRepo(containerOf(svc)?.image).endsWith(`parley/${d.name}`))
      problems.push(`Knative Service ${d.name}: image must be parley/${d.name}`);
    const ann: Json = svc.spec?.template?.metadata?.annotations ?? {};
    if (scaling) {
      const want = d.scaling === 'min-scale' ? '1' : '0';
      if (ann['autoscaling.knative.dev/min-scale'] !== want)
        problems.push(`Knative Service ${d.name}: scaling ${d.scaling} means min-scale ${want}`);
      if (
        d.scaling === 'scale-to-zero' &&
        !ann['autoscaling.knative.dev/scale-to-zero-pod-retention-period']
      )
        problems.push(`Knative Service ${d.name}: scale-to-zero without a retention period`);
    }
    if (svc.metadata?.annotations?.['parley.dev/scaling-why'] !== d.scalingWhy)
      problems.push(`Knative Service ${d.name}: the table's scalingWhy must be its annotation`);

    // The SinkBinding: exactly for the functions that read K_SINK, to the KafkaSink of `emits`.
    const binding = bindings.filter((b) => b.spec?.subject?.name === d.name);
    const readsSink = (d.env as readonly EnvName[]).includes('K_SINK');
    if (readsSink) {
      const emits = d.kind === 'cloudevent' ? d.emits : undefined;
      const b = binding[0];
      if (binding.length !== 1 || !emits || !b)
        problems.push(`${d.name}: reads K_SINK: one SinkBinding and an emits topic expected`);
      else {
        if (
          b.spec?.subject?.apiVersion !== 'serving.knative.dev/v1' ||
          b.spec?.subject?.kind !== 'Service'
        )
          problems.push(
            `SinkBinding ${nameOf(b)}: its subject must be the Knative Service ${d.name}`,
          );
        const ref = b.spec?.sink?.ref;
        if (ref?.kind !== 'KafkaSink' || ref?.name !== sinkOfTopic.get(emits))
          problems.push(
            `SinkBinding ${nameOf(b)}: sink must be the KafkaSink of ${emits}, is ${ref?.kind} ${ref?.name}`,
          );
      }
    } else if (binding.length)
      problems.push(`${d.name}: a SinkBinding, but it does not read K_SINK`);

    // The KafkaSources: one per trigger topic, with its group, and the stand-in's delivery.
    const mine = sources.filter((s) => s.spec?.sink?.ref?.name === d.name);
    if (d.kind !== 'cloudevent') {
      if (mine.length) problems.push(`${d.name}: an HTTP function with a KafkaSource`);
    } else {
      const want = sourcesOf(d);
      if (mine.length !== want.length)
        problems.push(`${d.name}: ${want.length} KafkaSource(s) expected, found ${mine.length}`);
      for (const x of want) {
        const src = mine.find((m) => nameOf(m) === x.name);
        if (!src) problems.push(`${d.name}: no KafkaSource ${x.name} (topic ${x.topic})`);
        else problems.push(...checkKafkaSource(src, d, x, sinkOfTopic));
      }
    }
  }

  // Migration Jobs: one per `migrate` step, same image, the step's env.
  const steps = TABLE.filter((d) => d.migrate);
  if (
    !sameSet(
      jobs.map(nameOf),
      steps.map((d) => `${d.name}-migrate`),
    )
  )
    problems.push(
      `Jobs ${list(jobs.map(nameOf))} ≠ migrate steps ${list(steps.map((d) => `${d.name}-migrate`))}`,
    );
  for (const d of steps) {
    const job = jobs.find((j) => nameOf(j) === `${d.name}-migrate`);
    if (!job || !d.migrate) continue;
    const c = containerOf(job);
    problems.push(...checkEnv(`Job ${nameOf(job)}`, c, d.migrate.env));
    if (c?.command?.join(' ') !== 'node --enable-source-maps migrate.mjs')
      problems.push(`Job ${nameOf(job)}: command must be node migrate.mjs`);
    const fnImage =
      containerOf(ksvcs.find((s) => nameOf(s) === d.name) ?? {})?.image ??
      containerOf(find(objs, 'apps/v1', 'Deployment', d.name)[0] ?? {})?.image;
    if (c?.image !== fnImage)
      problems.push(`Job ${nameOf(job)}: image ${c?.image} ≠ ${d.name}'s ${fnImage}`);
  }

  // The ConfigMap: exactly the `config` keys the table reads; the URLs point at the Services.
  const used = new Set<string>();
  for (const d of TABLE)
    for (const n of [...d.env, ...(d.migrate?.env ?? [])])
      if (ENV[n].source === 'config') used.add(n);
  if (!sameSet(Object.keys(config), used))
    problems.push(
      `ConfigMap keys ${list(Object.keys(config))} ≠ the table's config variables ${list(used)}`,
    );
  for (const [name, env] of Object.entries(URL_ENV))
    if (env && env in config && config[env] !== serviceUrl(name))
      problems.push(`ConfigMap ${env} must be ${serviceUrl(name)} (the Knative Service ${name})`);

  // Topics: the catalog's and their dead-letter topics, TOPIC_PARTITIONS each.
  const catalog = withDeadLetterTopics(Object.values(TOPICS));
  const declared = topics.map((t) => t.spec?.topicName ?? nameOf(t));
  if (!sameSet(declared, catalog) || declared.length !== catalog.length)
    problems.push(`KafkaTopics ${list(declared)} ≠ catalog ${list(catalog)}`);
  for (const t of topics)
    if (t.spec?.partitions !== TOPIC_PARTITIONS)
      problems.push(
        `KafkaTopic ${nameOf(t)}: ${t.spec?.partitions} partitions, the catalog says ${TOPIC_PARTITIONS}`,
      );

  // KafkaSinks: one per emitted topic and per dead-letter topic of a source, on the catalog's topics.
  const wantSinks = new Set<string>();
  for (const d of TABLE)
    if (d.kind === 'cloudevent') {
      if (d.emits) wantSinks.add(d.emits);
      for (const t of d.trigger.topics) wantSinks.add(deadLetterTopic(t));
    }
  if (
    !sameSet(
      sinks.map((s) => s.spec?.topic),
      wantSinks,
    )
  )
    problems.push(
      `KafkaSinks ${list(sinks.map((s) => s.spec?.topic))} ≠ emits + dead-letter topics ${list(wantSinks)}`,
    );
  const brokers = String(config.KAFKA_BROKERS ?? '').split(',');
  for (const o of [...sinks, ...sources])
    if (!sameSet(o.spec?.bootstrapServers ?? [], brokers))
      problems.push(`${o.kind} ${nameOf(o)}: bootstrapServers ≠ ConfigMap KAFKA_BROKERS`);

  // knative/deploy.sh applies the setup stage first: what the functions need before they start.
  const setupKinds = new Set(['Namespace', 'ConfigMap', 'KafkaTopic', 'Job']);
  for (const o of objs) {
    const staged = o.metadata?.labels?.['parley.dev/stage'] === 'setup';
    if (staged !== setupKinds.has(o.kind))
      problems.push(
        `${o.kind} ${nameOf(o)}: label parley.dev/stage=setup ${staged ? 'not ' : ''}expected`,
      );
  }

  // Every reference resolves to an object in the set.
  for (const o of objs) {
    const refs: Json[] = [o.spec?.sink?.ref, o.spec?.delivery?.deadLetterSink?.ref].filter(Boolean);
    for (const r of refs)
      if (
        !objs.some(
          (x) => x.apiVersion === r.apiVersion && x.kind === r.kind && nameOf(x) === r.name,
        )
      )
        problems.push(
          `${o.kind} ${nameOf(o)}: refers to ${r.apiVersion} ${r.kind} ${r.name}, which is not there`,
        );
  }
  return problems;
}

function checkKafkaSource(
  src: Json,
  d: Extract<Deployable, { kind: 'cloudevent' }>,
  source: TriggerSource,
  sinkOfTopic: Map<string, string>,
): string[] {
  const where = `KafkaSource ${nameOf(src)}`;
  const problems: string[] = [];
  const s = src.spec ?? {};
  if (s.topics?.length !== 1 || s.topics[0] !== source.topic)
    problems.push(`${where}: topics ${list(s.topics ?? [])}, the table says ${source.topic}`);
  if (s.consumerGroup !== source.consumerGroup)
    problems.push(
      `${where}: consumerGroup ${s.consumerGroup}, the table says ${source.consumerGroup}`,
    );
  if (s.sink?.ref?.apiVersion !== 'serving.knative.dev/v1' || s.sink?.ref?.kind !== 'Service')
    problems.push(`${where}: sink must be the Knative Service ${d.name}`);
  const ordering = src.metadata?.annotations?.['kafka.eventing.knative.dev/delivery.order'];
  if (ordering !== source.ordering || s.ordering !== source.ordering)
    problems.push(
      `${where}: delivery ${s.ordering} (annotation ${ordering}), the table says ${source.ordering} (annotation and spec.ordering)`,
    );
  if (s.initialOffset !== 'earliest')
    problems.push(`${where}: initialOffset must be earliest, like the stand-in`);
  const del = s.delivery ?? {};
  const policy = deliveryOf(d);
  const want = {
    retry: policy.retry,
    backoffPolicy: policy.backoffPolicy,
    backoffDelay: isoDuration(policy.backoffDelayMs),
    timeout: isoDuration(policy.timeoutMs),
  };
  for (const [k, v] of Object.entries(want))
    if (del[k] !== v) problems.push(`${where}: delivery.${k} ${del[k]}, the stand-in's is ${v}`);
  const { topic } = source;
  const dls = del.deadLetterSink?.ref;
  if (topic && (dls?.kind !== 'KafkaSink' || dls?.name !== sinkOfTopic.get(deadLetterTopic(topic))))
    problems.push(
      `${where}: deadLetterSink must be the KafkaSink of ${topic && deadLetterTopic(topic)}`,
    );
  return problems;
}

function checkGateway(objs: readonly Json[], dep: Json, config: Json): string[] {
  const where = `Deployment ${nameOf(dep)}`;
  const problems: string[] = [];
  const pod = dep.spec?.template?.spec ?? {};
  const c = containerOf(dep) ?? {};
  const drainS = Number(config.DRAIN_TIMEOUT_MS) / 1000;
  const preStop = Number(c.lifecycle?.preStop?.sleep?.seconds ?? 0);
  if (!(Number(pod.terminationGracePeriodSeconds) > preStop + drainS))
    problems.push(
      `${where}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} must exceed preStop ${preStop} s + drain ${drainS} s`,
    );
  if (preStop < GATEWAY.preStopSleepSeconds) problems.push(`${where}: preStop sleep missing`);
  if (
    c.readinessProbe?.httpGet?.path !== '/readyz' ||
    c.livenessProbe?.httpGet?.path !== '/healthz'
  )
    problems.push(`${where}: probes /readyz and /healthz expected`);
  if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: must run as non-root`);
  if (c.ports?.[0]?.containerPort !== CONTAINER_PORT)
    problems.push(`${where}: port ${CONTAINER_PORT}`);
  problems.push(...checkMetricsPort(where, dep.spec?.template));
  const metricsPort = Number(c.env?.find((e: Json) => e.name === 'METRICS_PORT')?.value);
  const named = (c.ports ?? []).find((p: Json) => p.name === 'metrics');
  if (named?.containerPort !== metricsPort)
    problems.push(`${where}: the container port named metrics must be METRICS_PORT ${metricsPort}`);
  if (c.env?.find((e: Json) => e.name === 'PORT')?.value !== String(CONTAINER_PORT))
    problems.push(`${where}: PORT must be the container port`);
  if (dep.spec?.replicas !== undefined) problems.push(`${where}: replicas belong to the HPA`);
  const sel = dep.spec?.selector?.matchLabels ?? {};
  const matches = (o: Json) =>
    Object.entries(sel).every(
      ([k, v]) => o.spec?.selector?.matchLabels?.[k] === v || o.spec?.selector?.[k] === v,
    );
  const svc = find(objs, 'v1', 'Service', nameOf(dep))[0];
  const pdb = find(objs, 'policy/v1', 'PodDisruptionBudget', nameOf(dep))[0];
  if (svc && !matches(svc))
    problems.push(`Service ${nameOf(svc)}: selector must match the Deployment`);
  // The metrics port is private: the Service (what the ingress reaches) never forwards to it.
  for (const p of svc?.spec?.ports ?? [])
    if ([p.targetPort, p.port].some((t) => t === 'metrics' || t === metricsPort))
      problems.push(`Service ${nameOf(dep)}: exposes the private metrics port`);
  if (pdb && !matches(pdb))
    problems.push(`PodDisruptionBudget ${nameOf(pdb)}: selector must match the Deployment`);
  const hpa = find(objs, 'autoscaling/v2', 'HorizontalPodAutoscaler', nameOf(dep))[0];
  if (
    hpa &&
    (hpa.spec?.scaleTargetRef?.kind !== 'Deployment' ||
      hpa.spec?.scaleTargetRef?.name !== nameOf(dep))
  )
    problems.push(`HPA ${nameOf(hpa)}: must scale the Deployment`);
  if (hpa && !(hpa.spec?.minReplicas >= 1)) problems.push(`HPA ${nameOf(hpa)}: minReplicas ≥ 1`);
  return problems;
}

/**
 * The stand-in caps one wait at DELIVERY_BACKOFF_MAX_MS; Knative's backoff has no cap. They
 * deliver alike only while the cap never bites within `retry` retries: per CloudEvent function,
 * the retries where it would (none, for the table to be right).
 */
export function backoffCapBites(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const fn of CLOUDEVENT_FUNCTIONS) {
    const policy = { ...DEFAULT_DELIVERY, ...deliveryOf(fn) };
    const uncapped = (n: number) =>
      policy.backoffPolicy === 'linear'
        ? policy.backoffDelayMs * n
        : policy.backoffDelayMs * 2 ** (n - 1);
    out[fn.name] = [];
    for (let n = 1; n <= policy.retry; n++)
      if (backoffMs(n, policy) !== uncapped(n)) out[fn.name]?.push(n);
  }
  return out;
}
