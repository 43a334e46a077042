/**
 * The deployment table against what starts the deployables: each function's
 * spec (name, the variables its config reads), the gateway's config, the
 * embedded mode's subscriptions and the real-mode stack's processes. The
 * manifests are held against the same table in knative/, and what each
 * bundle really reads in tests/images.
 */
import {
  GatewayConfigSchema,
  GatewayLimitsSchema,
  readGatewayConfig,
} from '@parley/connection-gateway/config';
import {
  CLOUDEVENT_FUNCTIONS,
  DEPLOYMENTS,
  type DeployableName,
  deployment,
  ENV,
  FUNCTIONS,
  sourcesOf,
  TOPICS,
  TRIGGER_SOURCES,
} from '@parley/eventing';
import { messageIndexFunction } from '@parley/fn-message-index/function';
import { messageWriteFunction } from '@parley/fn-message-write/function';
import { messagesFunction } from '@parley/fn-messages/function';
import { notificationsFunction } from '@parley/fn-notifications/function';
import { notifyFunction } from '@parley/fn-notify/function';
import { roomOpsFunction } from '@parley/fn-room-ops/function';
import { roomsFunction } from '@parley/fn-rooms/function';
import { searchFunction } from '@parley/fn-search/function';
import { usersFunction } from '@parley/fn-users/function';
import { ListenConfigSchema } from '@parley/runtime/serve-function';
import { TracingConfigSchema } from '@parley/runtime/tracing';
import { describe, expect, it } from 'vitest';
import { startEmbedded } from './embedded';
import { planStack } from './stack';

const SPECS = [
  usersFunction,
  roomsFunction,
  messagesFunction,
  searchFunction,
  roomOpsFunction,
  messageWriteFunction,
  messageIndexFunction,
  notificationsFunction,
  notifyFunction,
];

/** Read by every function's host, not by its config: the server's PORT/HOST/METRICS_PORT and the log level. */
/** What the host reads for every function: the server's, LOG_LEVEL and the tracing variables. */
const HOSTED = [
  ...Object.keys(ListenConfigSchema.shape),
  'LOG_LEVEL',
  ...Object.keys(TracingConfigSchema.shape),
];

const sorted = (xs: Iterable<string>) => [...xs].sort();

const INFRA = {
  MYSQL_A_URL: 'mysql://u:p@127.0.0.1:3307',
  MYSQL_B_URL: 'mysql://u:p@127.0.0.1:3308',
  REDIS_URL: 'redis://127.0.0.1:6380',
  KAFKA_BROKERS: '127.0.0.1:9092',
  ES_URL: 'http://127.0.0.1:9200',
};

describe('the deployment table', () => {
  it('has one spec per function, under the same name', () => {
    expect(sorted(SPECS.map((s) => s.name))).toEqual(sorted(FUNCTIONS.map((d) => d.name)));
  });

  it.each(SPECS.map((s) => [s.name, s] as const))(
    '%s reads exactly the variables its row lists',
    (name, spec) => {
      const row = deployment(name as DeployableName);
      expect(sorted([...Object.keys(spec.config.shape), ...HOSTED])).toEqual(sorted(row.env));
    },
  );

  it('the gateway reads exactly the variables its row lists', () => {
    expect(sorted(Object.keys(GatewayConfigSchema.shape))).toEqual(
      sorted(deployment('connection-gateway').env),
    );
    // and refuses to start without a required one, naming it
    expect(() => readGatewayConfig({})).toThrow(/JWT_SECRET/);
  });

  it('names only variables of ENV, and every required secret has no default anywhere', () => {
    for (const d of DEPLOYMENTS) for (const e of d.env) expect(ENV).toHaveProperty(e);
    expect(ENV.JWT_SECRET).toMatchObject({ source: 'secret', required: true });
  });

  it('gives every KafkaSource its own consumer group on catalog topics, one topic each', () => {
    const groups = TRIGGER_SOURCES.map((x) => x.consumerGroup);
    expect(new Set(groups).size).toBe(groups.length);
    for (const d of CLOUDEVENT_FUNCTIONS)
      expect(sourcesOf(d).map((x) => x.topic)).toEqual(d.trigger.topics);
    // A one-topic trigger's source is the function's name and group (what operators already know).
    for (const d of CLOUDEVENT_FUNCTIONS.filter((x) => x.trigger.topics.length === 1))
      expect(sourcesOf(d)).toEqual([
        {
          name: d.name,
          function: d.name,
          topic: d.trigger.topics[0],
          consumerGroup: d.trigger.consumerGroup,
          ordering: d.trigger.unordered?.topics.some((t) => t === d.trigger.topics[0])
            ? 'unordered'
            : 'ordered',
        },
      ]);
    // Only a trigger topic can be unordered, and commands always keep their order.
    for (const d of CLOUDEVENT_FUNCTIONS)
      for (const t of d.trigger.unordered?.topics ?? []) {
        expect(d.trigger.topics).toContain(t);
        expect(t).not.toMatch(/\.commands$/);
      }
    const topics = new Set<string>(Object.values(TOPICS));
    for (const d of CLOUDEVENT_FUNCTIONS) {
      for (const t of d.trigger.topics) expect(topics.has(t)).toBe(true);
      if (d.env.includes('K_SINK')) expect(d.emits, `${d.name} emits to a topic`).toBeDefined();
    }
  });
});

describe('the embedded mode', () => {
  it('subscribes each CloudEvent function to its table topics on its table consumer group', async () => {
    const embedded = await startEmbedded({ port: 0, logLevel: 'silent' });
    try {
      expect(sorted(embedded.triggers.map((t) => `${t.function} ${t.topic} ${t.group}`))).toEqual(
        sorted(TRIGGER_SOURCES.map((x) => `${x.function} ${x.topic} ${x.consumerGroup}`)),
      );
    } finally {
      await embedded.stop();
    }
  });
});

describe('the real-mode stack', () => {
  const plan = planStack({ portBase: 18100, gatewayPort: 18080, gateways: 3 }, INFRA);
  const proc = (name: string) => {
    const p = plan.processes.find((x) => x.name === name);
    if (!p) throw new Error(`no process ${name}`);
    return p;
  };

  it('runs every function from its bundle with exactly the variables of its row', () => {
    for (const d of FUNCTIONS) {
      const p = proc(d.name);
      expect(p.bundle).toBe(`${d.dir}/dist/index.mjs`);
      expect(sorted(Object.keys(p.env)), d.name).toEqual(sorted(d.env));
    }
  });

  it('runs one KafkaSource per trigger topic with its group, delivering to its function', () => {
    for (const x of TRIGGER_SOURCES) {
      const d = CLOUDEVENT_FUNCTIONS.find((f) => f.name === x.function);
      if (!d) throw new Error(`no function ${x.function}`);
      const source = proc(`${x.name}-source`);
      expect(source.env).toMatchObject({
        SOURCE_TOPICS: x.topic,
        CONSUMER_GROUP: x.consumerGroup,
        DELIVERY_ORDERING: x.ordering,
        SINK_URL: `http://127.0.0.1:${proc(d.name).port}`,
      });
      // A trigger with its own retry policy gets it; the others the stand-in's default.
      const own = d.trigger.delivery;
      if (own)
        expect(source.env).toMatchObject({
          DELIVERY_RETRY: String(own.retry),
          DELIVERY_BACKOFF_POLICY: own.backoffPolicy,
          DELIVERY_BACKOFF_DELAY_MS: String(own.backoffDelayMs),
          DELIVERY_BACKOFF_MAX_MS: String(own.backoffMaxMs),
        });
      else expect(source.env.DELIVERY_RETRY).toBeUndefined();
    }
    expect(plan.processes.filter((p) => p.role === 'source')).toHaveLength(TRIGGER_SOURCES.length);
  });

  const PER_ADDRESS_RAISED: string[] = [
    'SIGNUPS_PER_ADDRESS_PER_HOUR',
    'LOGIN_ADDRESS_FREE_FAILURES',
    'RATE_HTTP_ADDRESS_PER_SEC',
    'RATE_HTTP_ADDRESS_BURST',
  ];

  it('runs N gateways on consecutive ports, each allowing its own origin', () => {
    const row = deployment('connection-gateway');
    expect(plan.gatewayUrls).toEqual([
      'http://127.0.0.1:18080',
      'http://127.0.0.1:18081',
      'http://127.0.0.1:18082',
    ]);
    for (const [i, name] of [
      'connection-gateway',
      'connection-gateway-2',
      'connection-gateway-3',
    ].entries()) {
      const p = proc(name);
      expect(p.port).toBe(18080 + i);
      expect(sorted(Object.keys(p.env))).toEqual(
        sorted(
          // The stack leaves the gateway's limits at their defaults, but for the per-address
          // budgets: every client of a local stack is 127.0.0.1.
          row.env.filter(
            (e) => !Object.hasOwn(GatewayLimitsSchema.shape, e) || PER_ADDRESS_RAISED.includes(e),
          ),
        ),
      );
      expect(p.env.SIGNUPS_PER_ADDRESS_PER_HOUR).toBe('100000');
      expect(p.env.ALLOWED_ORIGINS).toContain(`http://127.0.0.1:${18080 + i}`);
    }
  });

  it('gives each function and gateway its own private METRICS_PORT, clear of every other port', () => {
    const ports = plan.processes.flatMap((p) => [
      p.port,
      ...(p.metricsPort ? [p.metricsPort] : []),
    ]);
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of plan.processes) {
      if (p.role === 'function' || p.role === 'gateway') {
        expect(p.metricsPort, p.name).toBeGreaterThan(18100);
        expect(p.metricsPort, p.name).toBeLessThan(18190);
        expect(p.env.METRICS_PORT, p.name).toBe(String(p.metricsPort));
      } else expect(p.metricsPort, p.name).toBeUndefined(); // the stand-ins: /metrics on `port`
    }
  });

  it('runs each migration step with the variables its row lists', () => {
    for (const d of DEPLOYMENTS) {
      if (!('migrate' in d)) continue;
      const step = plan.steps.find((s) => s.name === `${d.name}-migrate`);
      expect(step?.bundle).toBe(`${d.dir}/dist/migrate.mjs`);
      for (const k of Object.keys(step?.env ?? {})) expect(d.migrate.env).toContain(k);
    }
  });
});
