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
  DEPLOYMENTS,
  type Deployable,
  type EnvName,
  FUNCTIONS,
  URL_ENV,
} from '@parley/eventing';
import { build } from './build';
import { bundleNode, type InfraEnv, infraEnv, REPO_ROOT, twoShardSpec } from './infra';

const run = promisify(execFile);

export interface StackOptions {
  /** Port of the first gateway (default 8080); gateway i listens on gatewayPort + i. */
  gatewayPort?: number;
  /** How many gateways, each its own process (default 1). */
  gateways?: number;
  /** Functions and stand-ins listen on portBase+1 … portBase+90 (default 8100). */
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
}

export interface Stack {
  /** The first gateway. */
  gatewayUrl: string;
  /** Every gateway, in port order; their process names are `connection-gateway`, `connection-gateway-2`, … */
  gatewayUrls: string[];
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
  /** Starts a process that was killed; resolves when it is ready. */
  start(name: string): Promise<void>;
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
}

const LOG_DIR = join(REPO_ROOT, '.parley', 'logs');

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
    if (child.exitCode !== null) break;
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
  // Ports: function i of the table on base+1+i, its KafkaSource on base+11+i, the sink on base+90.
  const fnPort = new Map(FUNCTIONS.map((d, i) => [d.name, base + 1 + i]));
  const sourcePort = new Map(CLOUDEVENT_FUNCTIONS.map((d, i) => [d.name, base + 11 + i]));
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
    JWT_SECRET: jwtSecret,
    REDIS_URL: infra.REDIS_URL,
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    K_SINK: url(sinkPort),
    ES_URL: infra.ES_URL,
    SEARCH_INDEX_ALIAS: `${prefix}-messages`,
    USERS_DB_SHARDS: twoShardSpec(infra, `${prefix}_users`),
    ROOMS_DB_SHARDS: twoShardSpec(infra, `${prefix}_rooms`),
    MESSAGE_DB_SHARDS: twoShardSpec(infra, `${prefix}_messages`),
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
      bundle: bundleOf(d),
      env: envOf(d, { ...values, PORT: String(portOf(d.name)) }),
    })),
    ...CLOUDEVENT_FUNCTIONS.map((d) => {
      const p = sourcePort.get(d.name) as number;
      return {
        name: `${d.name}-source`,
        role: 'source' as const,
        port: p,
        bundle: 'eventing/dist/kafka-source.mjs',
        env: {
          ...standIn,
          PORT: String(p),
          SOURCE_TOPICS: d.trigger.topics.join(','),
          CONSUMER_GROUP: d.trigger.consumerGroup,
          SINK_URL: url(portOf(d.name)),
        },
      };
    }),
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
      bundle: bundleOf(gatewayRow),
      env: envOf(gatewayRow, {
        ...values,
        PORT: String(p),
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

  mkdirSync(LOG_DIR, { recursive: true });
  const children: { name: string; child: ChildProcess }[] = [];
  const terminate = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill(signal);
    });
  const stop = async () => {
    await Promise.all([...children].reverse().map(({ child }) => terminate(child)));
    rmSync(runDir, { recursive: true, force: true });
  };
  const launch = async (s: ProcSpec) => {
    const logFile = join(LOG_DIR, `${s.name}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    // As the images run them: without --enable-source-maps, which costs 180-350 ms of every start
    // (perf/results, cold start); the maps are beside the bundles for NODE_OPTIONS when debugging.
    const child = spawn(node, [s.bundle], {
      cwd: runDir,
      env: withPath(s.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const entry = { name: s.name, child };
    children.push(entry);
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
      await Promise.all(group.map(launch));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    gatewayUrl: gatewayUrls[0] as string,
    gatewayUrls,
    env: values,
    node,
    async restart(name) {
      await remove(name, 'SIGTERM');
      await launch(specOf(name));
    },
    async kill(name) {
      await remove(name, 'SIGKILL');
    },
    async start(name) {
      if (children.some((c) => c.name === name)) throw new Error(`${name} is running`);
      await launch(specOf(name));
    },
    stop,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: args } = parseArgs({ options: { gateways: { type: 'string', default: '1' } } });
  const stack = await startStack({ verbose: true, gateways: Number(args.gateways) });
  process.stderr.write(
    `\nParley (real mode) is up: ${stack.gatewayUrls.join(' ')}\nLogs: ${LOG_DIR}\nCtrl-C stops the Parley processes; tests/infra/down stops MariaDB, Redis, Kafka and Elasticsearch.\n`,
  );
  let stopping = false;
  const onSignal = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void onSignal());
  process.on('SIGTERM', () => void onSignal());
}
