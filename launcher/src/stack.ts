/**
 * The real mode on one machine: real MariaDB (two instances = two physical
 * shards), Redis and Kafka on loopback (tests/infra/up), every function in
 * its own process under the Functions Framework, the eventing stand-ins
 * (KafkaSink, one KafkaSource per CloudEvent function) and the gateway.
 *
 * `npm run start:real` runs this file; the integration tests import
 * `startStack` and stop it afterwards.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TOPICS } from '@parley/eventing';
import { infraEnv, REPO_ROOT } from './infra';

const run = promisify(execFile);

export interface StackOptions {
  /** Gateway port (default 8080). */
  gatewayPort?: number;
  /** Functions and stand-ins listen on portBase+1 … portBase+12 (default 8100). */
  portBase?: number;
  /** Database name prefix (default `parley`). */
  dbPrefix?: string;
  /** Default: JWT_SECRET from the environment, else a random one for this run. */
  jwtSecret?: string;
  /** Extra environment for every process (e.g. rate limits for a benchmark). */
  env?: Record<string, string>;
  /** Print progress to stderr. */
  verbose?: boolean;
}

export interface Stack {
  gatewayUrl: string;
  env: Record<string, string>;
  /**
   * Stops one process (SIGTERM: a gateway drains, closing sockets with 1001)
   * and starts it again; resolves when it is ready. For tests of reconnects.
   */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

interface ProcSpec {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** Where /readyz answers when the process is up. */
  port: number;
}

const LOG_DIR = join(REPO_ROOT, '.parley', 'logs');

function shardSpec(infra: ReturnType<typeof infraEnv>, db: string): string {
  // Logical shards 0-31 on instance A, 32-63 on instance B: two physical shards per service.
  return `0-31=${infra.MYSQL_A_URL}/${db}_0;32-63=${infra.MYSQL_B_URL}/${db}_1`;
}

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
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  throw new Error(
    `${name} did not become ready on :${port} (exit ${child.exitCode}); log tail:\n${tail}`,
  );
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const say = (msg: string) => opts.verbose && process.stderr.write(`[stack] ${msg}\n`);
  say('bringing up MariaDB ×2, Redis, Kafka, Elasticsearch (tests/infra/up)…');
  await run('bash', [join(REPO_ROOT, 'tests/infra/up')], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const infra = infraEnv();
  const base = opts.portBase ?? 8100;
  const gatewayPort = opts.gatewayPort ?? 8080;
  const prefix = opts.dbPrefix ?? 'parley';
  const port = {
    sink: base + 90,
    users: base + 1,
    rooms: base + 2,
    messages: base + 3,
    roomOps: base + 4,
    messageWrite: base + 5,
    search: base + 6,
    messageIndex: base + 7,
    roomSource: base + 11,
    messageSource: base + 12,
    indexSource: base + 13,
  };
  const url = (p: number) => `http://127.0.0.1:${p}`;
  const jwtSecret =
    opts.jwtSecret ?? process.env.JWT_SECRET ?? randomBytes(32).toString('base64url');
  const common: Record<string, string> = {
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    JWT_SECRET: jwtSecret,
    REDIS_URL: infra.REDIS_URL,
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    K_SINK: url(port.sink),
    USERS_URL: url(port.users),
    ROOMS_URL: url(port.rooms),
    MESSAGES_URL: url(port.messages),
    SEARCH_URL: url(port.search),
    ES_URL: infra.ES_URL,
    SEARCH_INDEX_ALIAS: `${prefix}-messages`,
    USERS_DB_SHARDS: shardSpec(infra, `${prefix}_users`),
    ROOMS_DB_SHARDS: shardSpec(infra, `${prefix}_rooms`),
    MESSAGE_DB_SHARDS: shardSpec(infra, `${prefix}_messages`),
    ...opts.env,
  };

  say('applying migrations and creating topics…');
  const tsx = (file: string, env: Record<string, string> = {}) =>
    run(process.execPath, ['--import', 'tsx', file], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...common, ...env },
    });
  await Promise.all([
    tsx('functions/users/src/migrate.ts'),
    tsx('functions/room-ops/src/migrate.ts'),
    tsx('functions/message-write/src/migrate.ts'),
    tsx('functions/message-index/src/migrate.ts'),
    tsx('eventing/src/kafka-topics.main.ts'),
  ]);

  const fn = (name: string, dir: string, p: number): ProcSpec => ({
    name,
    port: p,
    args: ['runtime/src/serve-function.ts', `functions/${dir}/src/index.ts`, name],
    env: { PORT: String(p) },
  });
  const source = (
    name: string,
    topic: string,
    group: string,
    sink: number,
    p: number,
  ): ProcSpec => ({
    name,
    port: p,
    args: ['eventing/src/kafka-source.main.ts'],
    env: { PORT: String(p), SOURCE_TOPICS: topic, CONSUMER_GROUP: group, SINK_URL: url(sink) },
  });
  const specs: ProcSpec[] = [
    {
      name: 'kafka-sink',
      port: port.sink,
      args: ['eventing/src/kafka-sink.main.ts'],
      env: { PORT: String(port.sink) },
    },
    fn('users', 'users', port.users),
    fn('rooms', 'rooms', port.rooms),
    fn('messages', 'messages', port.messages),
    fn('search', 'search', port.search),
    fn('room-ops', 'room-ops', port.roomOps),
    fn('message-write', 'message-write', port.messageWrite),
    fn('message-index', 'message-index', port.messageIndex),
    source(
      'room-ops-source',
      TOPICS.roomCommands,
      'parley-room-ops',
      port.roomOps,
      port.roomSource,
    ),
    source(
      'message-write-source',
      TOPICS.messageCommands,
      'parley-message-write',
      port.messageWrite,
      port.messageSource,
    ),
    source(
      'message-index-source',
      TOPICS.messageEvents,
      'parley-message-index',
      port.messageIndex,
      port.indexSource,
    ),
    {
      name: 'connection-gateway',
      port: gatewayPort,
      args: ['connection-gateway/src/main.ts'],
      env: {
        PORT: String(gatewayPort),
        ALLOWED_ORIGINS: `http://localhost:${gatewayPort},http://127.0.0.1:${gatewayPort}`,
      },
    },
  ];

  mkdirSync(LOG_DIR, { recursive: true });
  const children: { name: string; child: ChildProcess }[] = [];
  const terminate = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const stop = async () => {
    await Promise.all([...children].reverse().map(({ child }) => terminate(child)));
  };
  const launch = async (s: ProcSpec) => {
    const logFile = join(LOG_DIR, `${s.name}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', ...s.args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...common, ...s.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    children.push({ name: s.name, child });
    await waitReady(s.name, s.port, child, logFile);
    say(`${s.name} ready on :${s.port}`);
  };
  const restart = async (name: string) => {
    const spec = specs.find((s) => s.name === name);
    const i = children.findIndex((c) => c.name === name);
    if (!spec || i < 0) throw new Error(`no process ${name}`);
    const [old] = children.splice(i, 1);
    if (old) await terminate(old.child);
    await launch(spec);
  };
  try {
    // Start in dependency order: the sink and the read functions before the writers, sources after their
    // functions, the gateway last.
    const firstSource = specs.findIndex((s) => s.name.endsWith('-source'));
    const gateway = specs.length - 1;
    for (const group of [
      specs.slice(0, firstSource),
      specs.slice(firstSource, gateway),
      specs.slice(gateway),
    ]) {
      await Promise.all(group.map(launch));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { gatewayUrl: url(gatewayPort), env: common, restart, stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stack = await startStack({ verbose: true });
  process.stderr.write(
    `\nParley (real mode) is up: ${stack.gatewayUrl}\nLogs: ${LOG_DIR}\nCtrl-C stops the Parley processes; tests/infra/down stops MariaDB, Redis and Kafka.\n`,
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
