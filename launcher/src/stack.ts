/**
 * The real mode on one machine: real MariaDB (two instances = two physical
 * shards), Redis, Kafka and Elasticsearch on loopback (tests/infra/up), and
 * every deployable of the deployment table in its own process, started from
 * its bundle (`<dir>/dist/index.mjs`, the file its image holds) with plain
 * `node` and only the environment the table gives it. Between them, the
 * eventing stand-ins: one KafkaSource per CloudEvent function (its topics and
 * consumer group from the table) and the KafkaSink behind K_SINK. In front,
 * one or more connection gateways on consecutive ports, fanning out through
 * Redis like the gateways of a cluster.
 *
 * `npm run start:real` runs this file (`--gateways N` for more than one);
 * the integration tests, browser tests and benchmarks import `startStack`.
 * PARLEY_NODE picks the node binary the bundles run on (npm test sets Node
 * 24, the images' runtime); by default the one running this file.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import {
  CLOUDEVENT_FUNCTIONS,
  type CloudEventFunctionDeployable,
  DEPLOYMENTS,
  type Deployable,
  type EnvName,
  FUNCTIONS,
  sourcesOf,
  TRIGGER_SOURCES,
  URL_ENV,
} from '@parley/eventing';
import { build } from './build';
import { bundleNode, type InfraEnv, infraEnv, REPO_ROOT, twoShardSpec } from './infra';
import { stopProcess } from './processes';

const run = promisify(execFile);

export interface StackOptions {
  /** Port of the first gateway (default 8080); gateway i listens on gatewayPort + i. */
  gatewayPort?: number;
  /** How many gateways, each its own process (default 1). */
  gateways?: number;
  /** Functions, their metrics ports and the stand-ins listen on portBase+1 … portBase+90 (default 8100). */
  portBase?: number;
  /** Database name prefix (default `parley`). */
  dbPrefix?: string;
  /** Default: JWT_SECRET from the environment, else a random one for this run. */
  jwtSecret?: string;
  /**
   * Extra environment (e.g. rate limits for a benchmark). Each process gets the keys its table row
   * lists (the stand-ins: every key), so no process sees a variable it does not read.
   */
  env?: Record<string, string>;
  /** Skip `npm run build` (the caller built the bundles already). */
  skipBuild?: boolean;
  /** Print progress to stderr. */
  verbose?: boolean;
  /** Where each process's log goes (default .parley/logs). */
  logDir?: string;
}

export interface Stack {
  /** The first gateway. */
  gatewayUrl: string;
  /** Every gateway, in port order; their process names are `connection-gateway`, `connection-gateway-2`, … */
  gatewayUrls: string[];
  /**
   * Where each process answers `/metrics`, by process name: a deployable on its private
   * METRICS_PORT (its PORT answers 404 there), a stand-in on its one port.
   */
  metricsUrls: Record<string, string>;
  /** The values of every variable of the table in this stack (what each process picks its env from). */
  env: Record<string, string>;
  /** The node binary the bundles run on. */
  node: string;
  /**
   * Stops one process (SIGTERM: a gateway drains, closing sockets with 1001)
   * and starts it again; resolves when it is ready. For tests of reconnects.
   */
  restart(name: string): Promise<void>;
  /** Kills one process at once (SIGKILL, like a crashed pod); `start(name)` brings it back. */
  kill(name: string): Promise<void>;
  /** Stops one process cleanly (SIGTERM, like a scale-in) and waits for its exit. */
  terminate(name: string): Promise<void>;
  /**
   * Starts a process that was killed (or died); resolves when it is ready. `args` go to node after
   * the bundle: the fault suite arms failpoints with `--failpoints=…` (runtime/src/failpoint.ts).
   * `waitReady: false` returns once it is spawned (an armed process may die before it is ready).
   */
  start(name: string, opts?: { args?: string[]; waitReady?: boolean }): Promise<void>;
  /** Resolves when the process exits on its own (a failpoint killed it), with its signal or code. */
  exited(name: string, timeoutMs: number): Promise<string>;
  /**
   * Starts a second instance of a KafkaSource stand-in, named `copy` (its ops port is the first's
   * + 70): it joins the same consumer group, so the group rebalances; `kill(copy)` makes it leave.
   */
  startCopy(name: string, copy: string): Promise<void>;
  /** Starts every process of the plan that is not running (after a fault left one down). */
  heal(): Promise<string[]>;
  /** The pid of each running process, by name (benchmarks read their CPU from /proc). */
  pids(): Record<string, number>;
  stop(): Promise<void>;
}

export interface ProcSpec {
  name: string;
  /** What it is, which also orders the start: sink and functions, then sources, then gateways. */
  role: 'sink' | 'function' | 'source' | 'gateway';
  /** The bundle to run, relative to the repository root. */
  bundle: string;
  env: Record<string, string>;
  /** Where /readyz answers when the process is up. */
  port: number;
  /** A deployable's private METRICS_PORT (the stand-ins serve /metrics on `port`). */
  metricsPort?: number;
}

const DEFAULT_LOG_DIR = join(REPO_ROOT, '.parley', 'logs');

/** The process name of gateway i (0-based): `connection-gateway`, `connection-gateway-2`, … */
export const gatewayName = (i: number): string =>
  i === 0 ? 'connection-gateway' : `connection-gateway-${i + 1}`;

async function waitReady(
  name: string,
  port: number,
  child: ChildProcess,
  logFile: string,
  timeoutMs = 90_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  throw new Error(
    `${name} did not become ready on :${port} (exit ${child.exitCode}); log tail:\n${tail}`,
  );
}

/** Deletes the bundle copies of stacks whose process is gone (killed before its stop). */
function removeStaleRuns(runRoot: string): void {
  if (!existsSync(runRoot)) return;
  for (const entry of readdirSync(runRoot)) {
    const pid = Number(entry.split('-')[0]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      // no such process
    }
    if (!alive) rmSync(join(runRoot, entry), { recursive: true, force: true });
  }
}

/** The environment of one deployable: exactly the variables its table row names that have a value here. */
export function envOf(
  d: Pick<Deployable, 'env'>,
  values: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of d.env) {
    const v = values[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** A KafkaSource stand-in's retry policy when its trigger has its own (the table's `delivery`). */
export function deliveryEnv(d: CloudEventFunctionDeployable): Record<string, string> {
  const p = d.trigger.delivery;
  if (!p) return {};
  return {
    DELIVERY_RETRY: String(p.retry),
    DELIVERY_BACKOFF_POLICY: p.backoffPolicy,
    DELIVERY_BACKOFF_DELAY_MS: String(p.backoffDelayMs),
    DELIVERY_BACKOFF_MAX_MS: String(p.backoffMaxMs),
  };
}

export interface StackPlan {
  /** Every process, in the order they are started (functions, sources, gateways). */
  processes: ProcSpec[];
  /** Migration steps and topic creation, run before the processes. */
  steps: { name: string; bundle: string; env: Record<string, string> }[];
  gatewayUrls: string[];
  values: Record<string, string>;
}

/**
 * What the real mode runs, from the deployment table: pure, so a unit test can hold it against the table.
 * @example planStack({ portBase: 18100 }, infraEnv()).processes.map((p) => p.name)
 */
export function planStack(opts: StackOptions, infra: InfraEnv): StackPlan {
  const base = opts.portBase ?? 8100;
  const gatewayPort = opts.gatewayPort ?? 8080;
  const gatewayCount = opts.gateways ?? 1;
  const prefix = opts.dbPrefix ?? 'parley';
  const url = (p: number) => `http://127.0.0.1:${p}`;
  // Ports: function i of the table on base+1+i, KafkaSource i (TRIGGER_SOURCES) on base+11+i, function
  // i's metrics on base+21+i, gateway i's metrics on base+51+i, the sink on base+90.
  const fnPort = new Map(FUNCTIONS.map((d, i) => [d.name, base + 1 + i]));
  const fnMetricsPort = new Map(FUNCTIONS.map((d, i) => [d.name, base + 21 + i]));
  const sourcePort = new Map(TRIGGER_SOURCES.map((x, i) => [x.name, base + 11 + i]));
  const sinkPort = base + 90;
  const portOf = (name: string): number => {
    const p = fnPort.get(name);
    if (p === undefined) throw new Error(`no function ${name} in the deployment table`);
    return p;
  };
  const jwtSecret =
    opts.jwtSecret ?? process.env.JWT_SECRET ?? randomBytes(32).toString('base64url');
  // One value per variable of the table; each process takes the ones its row names.
  const values: Record<string, string> = {
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    // Traced when the caller names an OTLP receiver (e.g. a local Jaeger's :4318); off otherwise.
    OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '',
    OTEL_TRACES_SAMPLER_ARG: process.env.OTEL_TRACES_SAMPLER_ARG ?? '1',
    JWT_SECRET: jwtSecret,
    REDIS_URL: infra.REDIS_URL,
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    K_SINK: url(sinkPort),
    ES_URL: infra.ES_URL,
    SEARCH_INDEX_ALIAS: `${prefix}-messages`,
    USERS_DB_SHARDS: twoShardSpec(infra, `${prefix}_users`),
    ROOMS_DB_SHARDS: twoShardSpec(infra, `${prefix}_rooms`),
    MESSAGE_DB_SHARDS: twoShardSpec(infra, `${prefix}_messages`),
    NOTIFY_DB_SHARDS: twoShardSpec(infra, `${prefix}_notify`),
    // Every client of a local stack is 127.0.0.1 (browsers, tests, benchmarks), and Redis keeps
    // sign-up and failed-login counts per address for an hour across runs: per-address budgets
    // would throttle the whole machine as one client. Per (username, address) and per-user rules
    // keep their defaults. A deployment's values are knative/src/settings.ts CONFIG_VALUES.
    SIGNUPS_PER_ADDRESS_PER_HOUR: '100000',
    LOGIN_ADDRESS_FREE_FAILURES: '100000',
    RATE_HTTP_ADDRESS_PER_SEC: '10000',
    RATE_HTTP_ADDRESS_BURST: '10000',
    // The users function's defaults (functions/users/src/app.ts), as a ConfigMap would give them.
    KDF_CONCURRENCY: '2',
    KDF_QUEUE_MAX: '16',
    ...opts.env,
  } satisfies Partial<Record<EnvName, string>>;
  for (const [name, envName] of Object.entries(URL_ENV)) {
    if (envName) values[envName] = url(portOf(name));
  }
  const bundleOf = (d: Pick<Deployable, 'dir'>, file = 'index.mjs') => join(d.dir, 'dist', file);

  const steps = [
    ...DEPLOYMENTS.flatMap((d) =>
      'migrate' in d
        ? [
            {
              name: `${d.name}-migrate`,
              bundle: bundleOf(d, 'migrate.mjs'),
              env: envOf(d.migrate, values),
            },
          ]
        : [],
    ),
    {
      name: 'kafka-topics',
      bundle: 'eventing/dist/kafka-topics.mjs',
      env: { KAFKA_BROKERS: infra.KAFKA_BROKERS, LOG_LEVEL: values.LOG_LEVEL as string },
    },
  ];
  const standIn = {
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    HOST: '127.0.0.1',
    LOG_LEVEL: values.LOG_LEVEL as string,
    OTEL_EXPORTER_OTLP_ENDPOINT: values.OTEL_EXPORTER_OTLP_ENDPOINT as string,
    OTEL_TRACES_SAMPLER_ARG: values.OTEL_TRACES_SAMPLER_ARG as string,
    ...opts.env,
  };
  const processes: ProcSpec[] = [
    {
      name: 'kafka-sink',
      role: 'sink',
      port: sinkPort,
      bundle: 'eventing/dist/kafka-sink.mjs',
      env: { ...standIn, PORT: String(sinkPort) },
    },
    ...FUNCTIONS.map((d) => ({
      name: d.name,
      role: 'function' as const,
      port: portOf(d.name),
      metricsPort: fnMetricsPort.get(d.name) as number,
      bundle: bundleOf(d),
      env: envOf(d, {
        ...values,
        PORT: String(portOf(d.name)),
        METRICS_PORT: String(fnMetricsPort.get(d.name)),
      }),
    })),
    ...CLOUDEVENT_FUNCTIONS.flatMap((d) =>
      sourcesOf(d).map((source) => {
        const p = sourcePort.get(source.name) as number;
        return {
          name: `${source.name}-source`,
          role: 'source' as const,
          port: p,
          bundle: 'eventing/dist/kafka-source.mjs',
          env: {
            ...standIn,
            PORT: String(p),
            SOURCE_TOPICS: source.topic,
            CONSUMER_GROUP: source.consumerGroup,
            DELIVERY_ORDERING: source.ordering,
            ...deliveryEnv(d),
            SINK_URL: url(portOf(d.name)),
          },
        };
      }),
    ),
  ];
  const gatewayRow = DEPLOYMENTS.find((d) => d.kind === 'gateway');
  if (!gatewayRow) throw new Error('the deployment table has no gateway');
  const gatewayUrls: string[] = [];
  for (let i = 0; i < gatewayCount; i++) {
    const p = gatewayPort + i;
    gatewayUrls.push(url(p));
    processes.push({
      name: gatewayName(i),
      role: 'gateway',
      port: p,
      metricsPort: base + 51 + i,
      bundle: bundleOf(gatewayRow),
      env: envOf(gatewayRow, {
        ...values,
        PORT: String(p),
        METRICS_PORT: String(base + 51 + i),
        ALLOWED_ORIGINS: `http://localhost:${p},http://127.0.0.1:${p}`,
      }),
    });
  }

  return { processes, steps, gatewayUrls, values };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const say = (msg: string) => opts.verbose && process.stderr.write(`[stack] ${msg}\n`);
  say('bringing up MariaDB ×2, Redis, Kafka, Elasticsearch (tests/infra/up)…');
  const [, built] = await Promise.all([
    run('bash', [join(REPO_ROOT, 'tests/infra/up')], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    }),
    opts.skipBuild ? undefined : build(),
  ]);
  if (built) say(`built ${built.outputs.length} outputs in ${built.ms} ms`);
  const infra = infraEnv();
  const node = bundleNode();
  const { processes: specs, steps, gatewayUrls, values } = planStack(opts, infra);
  const withPath = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', ...env });
  // Run from a copy of the bundles taken now, so a later build (another stack, a benchmark) cannot
  // pull a file from under a restart, and a restarted process runs the code this stack started with.
  const runRoot = join(REPO_ROOT, '.parley', 'run');
  removeStaleRuns(runRoot);
  const runDir = join(runRoot, `${process.pid}-${Date.now()}`);
  for (const bundle of new Set([...specs, ...steps].map((s) => s.bundle))) {
    const dist = dirname(bundle);
    cpSync(join(REPO_ROOT, dist), join(runDir, dist), { recursive: true });
  }

  say('applying migrations and creating topics…');
  await Promise.all(
    steps.map((step) =>
      run(node, ['--enable-source-maps', step.bundle], { cwd: runDir, env: withPath(step.env) }),
    ),
  );

  const logDir = opts.logDir ?? DEFAULT_LOG_DIR;
  mkdirSync(logDir, { recursive: true });
  const children: { name: string; child: ChildProcess }[] = [];
  const terminate = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') =>
    stopProcess(child, 15_000, signal);
  const stop = async () => {
    await Promise.all([...children].reverse().map(({ child }) => terminate(child)));
    rmSync(runDir, { recursive: true, force: true });
  };
  const launch = async (s: ProcSpec, args: readonly string[] = [], untilReady = true) => {
    const logFile = join(logDir, `${s.name}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    // As the images run them: without --enable-source-maps, which costs 180-350 ms of every start
    // (perf/results, cold start); the maps are beside the bundles for NODE_OPTIONS when debugging.
    const child = spawn(node, [s.bundle, ...args], {
      cwd: runDir,
      env: withPath(s.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const entry = { name: s.name, child };
    children.push(entry);
    if (!untilReady) return;
    try {
      await waitReady(s.name, s.port, child, logFile);
    } catch (err) {
      // Not ready: it is not running as far as the stack is concerned (a later start may retry).
      children.splice(children.indexOf(entry), 1);
      await terminate(child, 'SIGKILL');
      throw err;
    }
    say(`${s.name} ready on :${s.port}`);
  };
  /** Extra instances started by startCopy: not part of the plan, so heal() leaves them down. */
  const copies = new Set<string>();
  const specOf = (name: string) => {
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no process ${name}`);
    return spec;
  };
  const remove = async (name: string, signal: NodeJS.Signals) => {
    specOf(name);
    const i = children.findIndex((c) => c.name === name);
    if (i < 0) return;
    const [old] = children.splice(i, 1);
    if (old) await terminate(old.child, signal);
  };
  try {
    // Start in dependency order: the sink and the functions, then their sources, then the gateways.
    for (const roles of [['sink', 'function'], ['source'], ['gateway']]) {
      const group = specs.filter((s) => roles.includes(s.role));
      await Promise.all(group.map((s) => launch(s)));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    gatewayUrl: gatewayUrls[0] as string,
    gatewayUrls,
    metricsUrls: Object.fromEntries(
      specs.map((s) => [s.name, `http://127.0.0.1:${s.metricsPort ?? s.port}`]),
    ),
    env: values,
    node,
    async restart(name) {
      await remove(name, 'SIGTERM');
      await launch(specOf(name));
    },
    async kill(name) {
      await remove(name, 'SIGKILL');
    },
    async terminate(name) {
      await remove(name, 'SIGTERM');
    },
    async start(name, startOpts) {
      const i = children.findIndex((c) => c.name === name);
      const running = children[i];
      if (running && running.child.exitCode === null && running.child.signalCode === null)
        throw new Error(`${name} is running`);
      if (running) children.splice(i, 1);
      await launch(specOf(name), startOpts?.args, startOpts?.waitReady ?? true);
    },
    async heal() {
      const alive = (name: string) =>
        children.some(
          (c) => c.name === name && c.child.exitCode === null && c.child.signalCode === null,
        );
      const down = specs.filter((x) => !copies.has(x.name) && !alive(x.name));
      for (const x of down) {
        const i = children.findIndex((c) => c.name === x.name);
        if (i >= 0) children.splice(i, 1);
        await launch(x);
      }
      return down.map((x) => x.name);
    },
    async startCopy(name, copy) {
      const spec = specOf(name);
      if (spec.role !== 'source') throw new Error(`${name} is not a KafkaSource stand-in`);
      if (!specs.some((x) => x.name === copy)) {
        const port = spec.port + 70;
        specs.push({ ...spec, name: copy, port, env: { ...spec.env, PORT: String(port) } });
        copies.add(copy);
      }
      await launch(specOf(copy));
    },
    pids() {
      const out: Record<string, number> = {};
      for (const { name, child } of children) if (child.pid !== undefined) out[name] = child.pid;
      return out;
    },
    exited(name, timeoutMs) {
      const entry = children.find((c) => c.name === name);
      if (!entry) return Promise.reject(new Error(`${name} is not running`));
      const { child } = entry;
      const done = () => String(child.signalCode ?? child.exitCode);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(done());
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`${name} still running after ${timeoutMs} ms`)),
          timeoutMs,
        );
        child.once('exit', () => {
          clearTimeout(t);
          resolve(done());
        });
      });
    },
    stop,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: args } = parseArgs({
    options: {
      gateways: { type: 'string', default: '1' },
      // Beside the stack: Prometheus (Parley's rules), Alertmanager and Jaeger, every process traced.
      observe: { type: 'boolean', default: false },
    },
  });
  const { startObservability, toolPaths } = await import('./observability');
  const obs = args.observe ? await startObservability(await toolPaths(), {}) : undefined;
  const stack = await startStack({
    verbose: true,
    gateways: Number(args.gateways),
    ...(obs ? { env: { OTEL_EXPORTER_OTLP_ENDPOINT: obs.otlpUrl } } : {}),
  });
  obs?.setTargets(stack.metricsUrls);
  process.stderr.write(
    `\nParley (real mode) is up: ${stack.gatewayUrls.join(' ')}\nLogs: ${DEFAULT_LOG_DIR}\n${
      obs
        ? `Prometheus: ${obs.prometheusUrl}  Alertmanager: ${obs.alertmanagerUrl}  Jaeger: ${obs.jaegerQueryUrl}\n`
        : ''
    }Ctrl-C stops the Parley processes; tests/infra/down stops MariaDB, Redis, Kafka and Elasticsearch.\n`,
  );
  let stopping = false;
  const onSignal = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    await obs?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void onSignal());
  process.on('SIGTERM', () => void onSignal());
}
