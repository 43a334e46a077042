/**
 * The manifests an operator applies (knative/base and the dev/prod overlays) against:
 * - the real schemas: the Knative Serving, Eventing, eventing-kafka-broker and Strimzi CRDs and the
 *   Kubernetes OpenAPI models (see schemas.ts; `bash knative/schemas/fetch.sh` fetches them, and
 *   these tests fail, never skip, without them);
 * - the deployment table, the event catalog and the local KafkaSource stand-in (checks.ts);
 * - the generator: the committed base is what `npm run manifests` makes now.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPLOYMENTS, type Deployable, TRIGGER_SOURCES } from '@parley/eventing/deployments';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { backoffCapBites, checkAgainstTable, checkEnv } from './checks';
import { BASE_DIR, staleFiles } from './generate';
import { baseFiles, secretKeys } from './manifests';
import { kustomizeBuild, loadSchemas, parseYamlDocs, type Schemas } from './schemas';
import { CONFIG_MAP_NAME, CONTAINER_PORT, DELIVERY, METRICS_PORT, SECRET_NAME } from './settings';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any kind, walked by known paths
type Json = Record<string, any>;

// Compiling the large CRD schemas and running kustomize take seconds on a busy 2-core machine.
vi.setConfig({ testTimeout: 60_000 });

const KNATIVE_DIR = fileURLToPath(new URL('..', import.meta.url));
const OVERLAYS = ['dev', 'prod'] as const;

const committedBase = (): Json[] =>
  readdirSync(BASE_DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((f) => parseYamlDocs(readFileSync(join(BASE_DIR, f), 'utf8')));

/**
 * The schemas and the rendered overlays, loaded once by the first test that needs them. Without
 * the fetched schemas every such test fails (none skips) with the command to run.
 */
let loaded: { schemas: Schemas; rendered: Record<(typeof OVERLAYS)[number], Json[]> } | undefined;
let loadError: unknown;
function fetched() {
  if (loadError) throw loadError;
  if (!loaded) {
    try {
      const schemas = loadSchemas();
      const render = (o: string) => kustomizeBuild(join(KNATIVE_DIR, 'overlays', o));
      loaded = { schemas, rendered: { dev: render('dev'), prod: render('prod') } };
    } catch (err) {
      loadError = err;
      throw err;
    }
  }
  return loaded;
}
// Load once, with time to spare on a busy machine; a failure here fails each test that needs it.
beforeAll(() => {
  try {
    fetched();
  } catch {
    // reported by every test that calls fetched()
  }
}, 120_000);

describe('knative/base is generated from the table', () => {
  it('equals what `npm run manifests` writes now (a table change without regenerating fails)', () => {
    expect(staleFiles(), 'run: npm run manifests').toEqual([]);
  });

  it('has every object the generator makes, and kustomize renders it', () => {
    const generated = baseFiles().flatMap((f) => f.objects).length;
    expect(committedBase()).toHaveLength(generated);
    fetched();
    expect(kustomizeBuild(BASE_DIR)).toHaveLength(generated);
  });
});

describe('against the real schemas', () => {
  const cases = (): [string, Json[]][] => [
    ['base', committedBase()],
    ['dev overlay', fetched().rendered.dev],
    ['prod overlay', fetched().rendered.prod],
  ];

  it.each(['base', 'dev overlay', 'prod overlay'])('every object of the %s is valid', (label) => {
    const objs = cases().find(([l]) => l === label)?.[1] ?? [];
    expect(objs.length).toBeGreaterThan(0);
    const problems = objs.flatMap((o) => fetched().schemas.validate(o));
    expect(problems).toEqual([]);
    // Every kind has a real schema behind it (none passes for want of one).
    const kinds = new Set(
      objs.map((o) => `${o.apiVersion}/${o.kind} ← ${fetched().schemas.describe(o)}`),
    );
    for (const k of kinds) expect(k).not.toMatch(/← nothing$/);
  });

  it('covers every kind the manifests use', () => {
    const kinds = new Set(committedBase().map((o) => `${o.apiVersion}/${o.kind}`));
    expect([...kinds].sort()).toEqual([
      'apps/v1/Deployment',
      'autoscaling/v2/HorizontalPodAutoscaler',
      'batch/v1/Job',
      'eventing.knative.dev/v1alpha1/KafkaSink',
      'kafka.strimzi.io/v1/KafkaTopic',
      'policy/v1/PodDisruptionBudget',
      'serving.knative.dev/v1/Service',
      'sources.knative.dev/v1/SinkBinding',
      'sources.knative.dev/v1beta1/KafkaSource',
      'v1/ConfigMap',
      'v1/Namespace',
      'v1/Service',
    ]);
  });

  it('refuses what the API server would refuse (the validators are not vacuous)', () => {
    const { schemas } = fetched();
    const base = committedBase();
    const pick = (kind: string) => structuredClone(base.find((o) => o.kind === kind)) as Json;

    const ksvc = structuredClone(
      base.find((o) => o.apiVersion === 'serving.knative.dev/v1' && o.kind === 'Service'),
    ) as Json;
    ksvc.spec.template.spec.containers[0].readinessProbe.httpGet.pth = '/readyz';
    ksvc.spec.template.spec.containerConcurrency = 'ten';
    expect(schemas.validate(ksvc).join('\n')).toMatch(/additional properties: pth/);
    expect(schemas.validate(ksvc).join('\n')).toMatch(/containerConcurrency must be integer/);

    const source = pick('KafkaSource');
    source.spec.topic = source.spec.topics[0];
    expect(schemas.validate(source).join('\n')).toMatch(/additional properties: topic/);

    const sink = pick('KafkaSink');
    delete sink.spec.bootstrapServers;
    expect(schemas.validate(sink).join('\n')).toMatch(/bootstrapServers/);

    const binding = pick('SinkBinding');
    binding.spec.sink.uri = 42;
    expect(schemas.validate(binding)).not.toEqual([]);

    const topic = pick('KafkaTopic');
    topic.spec.partitions = 0;
    expect(schemas.validate(topic).join('\n')).toMatch(/partitions must be >= 1/);

    const dep = pick('Deployment');
    dep.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    expect(schemas.validate(dep).join('\n')).toMatch(/containerPort must be integer/);

    // Strict: a misspelt field of a core object (an overlay patch, say) is refused too.
    const typo = pick('Deployment');
    typo.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/readyz' } };
    expect(schemas.validate(typo).join('\n')).toMatch(/additional properties: readinesProbe/);
    const metaTypo = pick('KafkaSource');
    metaTypo.metadata.label = { a: 'b' };
    expect(schemas.validate(metaTypo).join('\n')).toMatch(/additional properties: label/);

    const hpa = pick('HorizontalPodAutoscaler');
    delete hpa.spec.maxReplicas;
    expect(schemas.validate(hpa).join('\n')).toMatch(/maxReplicas/);

    const meta = pick('KafkaSink');
    meta.metadata.labels = { a: 1 };
    expect(schemas.validate(meta).join('\n')).toMatch(/labels/);

    expect(
      schemas.validate({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } }),
    ).toEqual(['Thing x: no schema for example.com/v1/Thing']);
  });
});

describe('against the deployment table, the catalog and the stand-in', () => {
  it('the base: Services, KafkaSources, SinkBindings, env, Jobs, ConfigMap, topics, sinks', () => {
    expect(checkAgainstTable(committedBase())).toEqual([]);
  });

  it.each(OVERLAYS)('the rendered %s overlay still agrees with the table', (o) => {
    // Overlays change min-scale on purpose; everything else must still hold.
    expect(checkAgainstTable(fetched().rendered[o], { scaling: false })).toEqual([]);
  });

  it('the env check catches a missing, an extra and a platform variable', () => {
    const d = (DEPLOYMENTS as readonly Deployable[]).find((x) => x.name === 'message-write');
    const svc = committedBase().find(
      (o) =>
        o.kind === 'Service' &&
        o.apiVersion === 'serving.knative.dev/v1' &&
        o.metadata.name === 'message-write',
    ) as Json;
    const c = svc.spec.template.spec.containers[0];
    if (!d) throw new Error('message-write is not in the table');
    expect(checkEnv('x', c, d.env)).toEqual([]);
    const less = { ...c, env: c.env.filter((e: Json) => e.name !== 'REDIS_URL') };
    expect(checkEnv('x', less, d.env).join()).toMatch(/the table says/);
    const more = { ...c, env: [...c.env, { name: 'ES_URL', value: 'http://es' }] };
    expect(checkEnv('x', more, d.env).join()).toMatch(/the table says/);
    const sink = { ...c, env: [...c.env, { name: 'K_SINK', value: 'http://sink' }] };
    expect(checkEnv('x', sink, d.env).join()).toMatch(/injected by the platform/);
    const literal = {
      ...c,
      env: c.env.map((e: Json) =>
        e.name === 'REDIS_URL' ? { name: e.name, value: 'redis://x' } : e,
      ),
    };
    expect(checkEnv('x', literal, d.env).join()).toMatch(new RegExp(`Secret ${SECRET_NAME}`));
  });

  it('the table check catches a drifted topic, group, sink and DLQ', () => {
    const objs = committedBase();
    const source = objs.find(
      (o) => o.kind === 'KafkaSource' && o.metadata.name === 'message-write',
    ) as Json;
    source.spec.topics = ['parley.message.events'];
    source.spec.consumerGroup = 'someone-else';
    source.spec.delivery.deadLetterSink.ref.name = 'parley-message-events-dlq';
    const binding = objs.find(
      (o) => o.kind === 'SinkBinding' && o.metadata.name === 'room-ops',
    ) as Json;
    binding.spec.sink.ref.name = 'parley-message-events';
    const problems = checkAgainstTable(objs).join('\n');
    expect(problems).toMatch(/KafkaSource message-write: topics/);
    expect(problems).toMatch(/consumerGroup someone-else/);
    expect(problems).toMatch(/deadLetterSink must be the KafkaSink of parley.message.commands.dlq/);
    expect(problems).toMatch(
      /SinkBinding room-ops: sink must be the KafkaSink of parley.room.events/,
    );
  });

  it("sets each KafkaSource's ordering from the table, and catches one that drifted", () => {
    const objs = committedBase();
    const sourceOf = (name: string) =>
      objs.find((o) => o.kind === 'KafkaSource' && o.metadata.name === name) as Json;
    for (const x of TRIGGER_SOURCES) {
      const src = sourceOf(x.name);
      expect(src.spec.ordering, x.name).toBe(x.ordering);
      expect(src.metadata.annotations['kafka.eventing.knative.dev/delivery.order']).toBe(
        x.ordering,
      );
    }
    // Commands keep their order (per-room seqs, each sender's order); message facts need none.
    expect(sourceOf('message-write').spec.ordering).toBe('ordered');
    expect(sourceOf('message-index').spec.ordering).toBe('unordered');
    sourceOf('message-write').spec.ordering = 'unordered';
    sourceOf('message-index').metadata.annotations['kafka.eventing.knative.dev/delivery.order'] =
      'ordered';
    const problems = checkAgainstTable(objs).join('\n');
    expect(problems).toMatch(
      /KafkaSource message-write: delivery unordered .*the table says ordered/,
    );
    expect(problems).toMatch(
      /KafkaSource message-index: delivery unordered \(annotation ordered\), the table says unordered/,
    );
  });

  it('serves /metrics on the private port only: declared nowhere a Service or route reaches', () => {
    const objs = committedBase();
    const pods = objs.filter(
      (o) => o.kind === 'Deployment' || (o.kind === 'Service' && o.apiVersion !== 'v1'),
    );
    expect(pods).toHaveLength(DEPLOYMENTS.length);
    for (const o of pods) {
      const c = o.spec.template.spec.containers[0];
      expect(c.env, o.metadata.name).toContainEqual({
        name: 'METRICS_PORT',
        value: String(METRICS_PORT),
      });
      expect(o.spec.template.metadata.annotations, o.metadata.name).toMatchObject({
        'prometheus.io/port': String(METRICS_PORT),
        'parley.dev/private-ports': `metrics=${METRICS_PORT}`,
      });
      // The probes stay on the serving port.
      expect(c.readinessProbe.httpGet.port).toBeOneOf([CONTAINER_PORT, 'http']);
    }
    // Knative routes to its one declared port; the gateway's Service forwards `http` alone.
    for (const o of pods.filter((x) => x.kind === 'Service'))
      expect(o.spec.template.spec.containers[0].ports).toEqual([
        { name: 'http1', containerPort: CONTAINER_PORT },
      ]);
    const gateway = objs.find((o) => o.kind === 'Deployment') as Json;
    expect(gateway.spec.template.spec.containers[0].ports).toContainEqual({
      name: 'metrics',
      containerPort: METRICS_PORT,
    });
    const svc = objs.find((o) => o.kind === 'Service' && o.apiVersion === 'v1') as Json;
    expect(svc.spec.ports.map((p: Json) => p.targetPort)).toEqual(['http']);
  });

  it('the table check catches a public or misplaced metrics port', () => {
    const objs = committedBase();
    const svc = objs.find((o) => o.kind === 'Service' && o.apiVersion === 'v1') as Json;
    svc.spec.ports.push({ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' });
    const ksvc = objs.find(
      (o) => o.apiVersion === 'serving.knative.dev/v1' && o.metadata.name === 'rooms',
    ) as Json;
    // 9091 is the queue-proxy's own metrics port in every Knative pod.
    for (const e of ksvc.spec.template.spec.containers[0].env)
      if (e.name === 'METRICS_PORT') e.value = '9091';
    const users = objs.find(
      (o) => o.apiVersion === 'serving.knative.dev/v1' && o.metadata.name === 'users',
    ) as Json;
    users.spec.template.metadata.annotations['prometheus.io/port'] = String(CONTAINER_PORT);
    const problems = checkAgainstTable(objs).join('\n');
    expect(problems).toMatch(/Service connection-gateway: exposes the private metrics port/);
    expect(problems).toMatch(/Knative Service rooms: METRICS_PORT 9091 is a port Knative's/);
    expect(problems).toMatch(/Knative Service users: annotation prometheus.io\/port must be 9464/);
  });

  it("delivers like the stand-in: its retry, backoff, timeout; the stand-in's cap never bites", () => {
    expect(DELIVERY).toMatchObject({
      retry: 20,
      backoffPolicy: 'linear',
      backoffDelayMs: 1_000,
      timeoutMs: 30_000,
      initialOffset: 'earliest',
    });
    // Knative's backoff has no cap: equal only while 1 s · n stays under the stand-in's.
    for (const bites of Object.values(backoffCapBites())) expect(bites).toEqual([]);
  });
});

describe('the overlays', () => {
  const ksvc = (objs: Json[], name: string) =>
    objs.find(
      (o) =>
        o.apiVersion === 'serving.knative.dev/v1' &&
        o.kind === 'Service' &&
        o.metadata.name === name,
    ) as Json;
  const minScale = (s: Json) =>
    s.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'];
  const configOf = (objs: Json[]) =>
    objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === CONFIG_MAP_NAME)?.data as Json;
  const images = (objs: Json[]) =>
    objs.flatMap((o) =>
      (o.spec?.template?.spec?.containers ?? []).map((c: Json) => c.image as string),
    );

  it('dev: every function may scale to zero, logs are debug, one Kafka replica', () => {
    const objs = fetched().rendered.dev;
    for (const d of DEPLOYMENTS)
      if (d.kind !== 'gateway') expect(minScale(ksvc(objs, d.name))).toBe('0');
    expect(configOf(objs).LOG_LEVEL).toBe('debug');
    for (const t of objs.filter((o) => o.kind === 'KafkaTopic')) expect(t.spec.replicas).toBe(1);
  });

  it('prod: more gateways, two warm message-write pods, every other function as the table says', () => {
    const objs = fetched().rendered.prod;
    expect(Number(minScale(ksvc(objs, 'message-write')))).toBeGreaterThanOrEqual(2);
    for (const d of DEPLOYMENTS)
      if (d.kind !== 'gateway' && d.name !== 'message-write')
        expect(minScale(ksvc(objs, d.name)), d.name).toBe(d.scaling === 'min-scale' ? '1' : '0');
    const hpa = objs.find((o) => o.kind === 'HorizontalPodAutoscaler') as Json;
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(configOf(objs).LOG_LEVEL).toBe('info');
  });

  it.each(OVERLAYS)('%s: every image names a registry and a tag, one per deployable', (o) => {
    const all = images(fetched().rendered[o]);
    for (const image of all) expect(image).toMatch(/^[a-z0-9.-]+(:\d+)?\/parley\/[a-z-]+:[\w.-]+$/);
    for (const image of all) expect(image).not.toMatch(/:latest$/);
    const names = new Set(all.map((i) => i.replace(/^.*\/parley\/([a-z-]+):.*$/, '$1')));
    expect([...names].sort()).toEqual(DEPLOYMENTS.map((d) => d.name).sort());
  });

  it.each(OVERLAYS)("%s: KafkaSources and KafkaSinks use the ConfigMap's KAFKA_BROKERS", (o) => {
    const brokers = configOf(fetched().rendered[o]).KAFKA_BROKERS;
    const kafka = fetched().rendered[o].filter(
      (x) => x.kind === 'KafkaSource' || x.kind === 'KafkaSink',
    );
    expect(kafka.length).toBeGreaterThan(0);
    for (const x of kafka) expect(x.spec.bootstrapServers).toEqual([brokers]);
  });
});

describe('knative/deploy.sh', () => {
  it('deploys one function: builds and pushes its image, renders it, migrates first, applies it', () => {
    fetched();
    const out = join(mkdtempSync(join(tmpdir(), 'parley-deploy-')), 'rendered.yaml');
    const run = spawnSync('bash', [join(KNATIVE_DIR, 'deploy.sh'), 'message-write'], {
      encoding: 'utf8',
      env: { ...process.env, DRY_RUN: '1', REGISTRY: 'r.example.com', TAG: '9.9.9', OUT: out },
    });
    expect(run.status, run.stderr).toBe(0);
    const steps = run.stderr.split('\n').filter((l) => l.startsWith('+ '));
    expect(steps).toEqual([
      '+ npm run build',
      '+ docker build -f functions/Dockerfile --build-arg FUNCTION=message-write -t r.example.com/parley/message-write:9.9.9 .',
      '+ docker push r.example.com/parley/message-write:9.9.9',
      '+ kubectl delete job -n parley -l app.kubernetes.io/name=message-write,app.kubernetes.io/component=migration --ignore-not-found --wait',
      `+ kubectl apply -f ${out} -l app.kubernetes.io/name=message-write,app.kubernetes.io/component=migration`,
      '+ kubectl wait job -n parley -l app.kubernetes.io/name=message-write,app.kubernetes.io/component=migration --for=condition=complete --timeout=10m',
      `+ kubectl apply -f ${out} -l app.kubernetes.io/name=message-write`,
    ]);
    const objs = parseYamlDocs(readFileSync(out, 'utf8'));
    const images = objs.flatMap((o: Json) =>
      (o.spec?.template?.spec?.containers ?? []).map((c: Json) => [o.metadata.name, c.image]),
    );
    expect(images).toContainEqual(['message-write', 'r.example.com/parley/message-write:9.9.9']);
    expect(images).toContainEqual([
      'message-write-migrate',
      'r.example.com/parley/message-write:9.9.9',
    ]);
    // The others keep the overlay's tag; the committed overlay is not edited.
    expect(images).toContainEqual(['users', 'registry.example.com/parley/users:0.1.0']);
    expect(readFileSync(join(KNATIVE_DIR, 'overlays/prod/kustomization.yaml'), 'utf8')).not.toMatch(
      /9\.9\.9/,
    );
  }, 60_000);
});

describe('docs/operations.md', () => {
  it('says how to create the Secret with every key the table reads from it', () => {
    const doc = readFileSync(
      fileURLToPath(new URL('../../docs/operations.md', import.meta.url)),
      'utf8',
    );
    expect(doc).toContain(`kubectl create secret generic ${SECRET_NAME}`);
    for (const key of secretKeys()) expect(doc, key).toContain(key);
  });
});
