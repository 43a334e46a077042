/**
 * What a harness run drives: the embedded mode in a child process on a free port, the real stack
 * (every process of the deployment table, on the real services), or any gateway already running
 * (`--url`). Each target says which processes to read CPU from: the client always, the stack's
 * processes and the services under it when the harness knows them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, infraEnv, REPO_ROOT } from '@parley/launcher/infra';

export { freePort };

import { stopProcess, waitHttpOk } from '@parley/launcher/processes';
import { type Stack, startStack } from '@parley/launcher/stack';
import { UNTHROTTLED_GATEWAY_ENV } from '../src/bench-env';
import { infraProcesses, type ProcRef } from '../src/proc-cpu';

/**
 * The environment of a load run: the throughput bench's (every frame budget out of the way) and
 * every cap a load client on one machine would hit as one abusive address: sockets per address and
 * per user, connections, sign-ups per address, the HTTP API's per-address and per-user budgets.
 * It measures capacity, not the abuse defences.
 */
export const LOAD_ENV: Record<string, string> = {
  ...UNTHROTTLED_GATEWAY_ENV,
  MAX_SOCKETS_PER_ADDRESS: '100000',
  MAX_SOCKETS_PER_USER: '10000',
  MAX_CONNECTIONS: '100000',
  SIGNUPS_PER_ADDRESS_PER_HOUR: '100000',
  LOGIN_ADDRESS_FREE_FAILURES: '100000',
  RATE_HTTP_ADDRESS_PER_SEC: '100000',
  RATE_HTTP_ADDRESS_BURST: '100000',
  RATE_HTTP_USER_PER_SEC: '100000',
  RATE_HTTP_USER_BURST: '100000',
  RATE_HISTORY_BYTES_PER_SEC: '1000000000',
  RATE_HISTORY_BYTES_BURST: '1000000000',
  RATE_SYNC_PER_SEC: '100000',
  RATE_SYNC_BURST: '100000',
};

export type TargetMode = 'embedded' | 'real' | 'url';

export interface Target {
  mode: TargetMode;
  /** The gateway's base URL (http://…). */
  url: string;
  /** Said in the record: what ran where. */
  description: string;
  /** The processes whose CPU a run reads (the client is added by the runner). */
  procs(): ProcRef[];
  /** Elasticsearch and the stack's message alias, when the target indexes into it (real mode). */
  search?: { esUrl: string; alias: string };
  /** Where each process answers `/metrics`, by process name (real mode: `Stack.metricsUrls`). */
  metricsUrls?: Record<string, string>;
  /** Sockets a user may hold on this target (a started target raises the gateway's default 20). */
  socketsPerUser: number;
  stop(): Promise<void>;
}

/** The ports and database prefix of the real stack a harness starts. */
export const REAL_STACK = { gatewayPort: 18080, portBase: 18100, dbPrefix: 'parley_bench' };

/** The embedded mode (launcher/src/embedded.ts) in its own process, so its CPU is its own. */
export async function startEmbeddedTarget(env: Record<string, string> = {}): Promise<Target> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'launcher', 'src', 'embedded.ts')],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...LOAD_ENV, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHttpOk(`${url}/healthz`, child, 60_000, 'the embedded mode');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid as number;
  return {
    mode: 'embedded',
    url,
    description:
      'the embedded mode (launcher/src/embedded.ts: gateway, every function, memory bus and stores in one process, run through tsx), started by the harness on a free port',
    procs: () => [{ name: 'embedded', pid }],
    socketsPerUser: Number(LOAD_ENV.MAX_SOCKETS_PER_USER),
    stop: () => stopProcess(child),
  };
}

/**
 * The real stack (launcher/src/stack.ts) on REAL_STACK's ports: it builds the bundles, brings the
 * services up (tests/infra/up) and runs every process of the deployment table. Only one real stack
 * may run on this machine's Kafka at a time (topic and consumer-group names are global).
 */
export async function startRealTarget(
  env: Record<string, string> = {},
  opts: { verbose?: boolean; skipBuild?: boolean } = {},
): Promise<Target> {
  const stack: Stack = await startStack({
    ...REAL_STACK,
    env: { ...LOAD_ENV, ...env },
    verbose: opts.verbose ?? true,
    ...(opts.skipBuild ? { skipBuild: true } : {}),
  });
  const infra = infraEnv();
  return {
    mode: 'real',
    url: stack.gatewayUrl,
    description: `the real stack started by the harness (launcher/src/stack.ts: every deployable its own process from its bundle on ${stack.node === process.execPath ? `this Node, ${process.version}` : stack.node}; MariaDB ×2, Redis, Kafka, Elasticsearch of tests/infra/up), gateway :${REAL_STACK.gatewayPort}, dbPrefix ${REAL_STACK.dbPrefix}`,
    procs: () => [
      ...Object.entries(stack.pids()).map(([name, pid]) => ({ name, pid })),
      ...infraProcesses(),
    ],
    search: { esUrl: infra.ES_URL, alias: `${REAL_STACK.dbPrefix}-messages` },
    metricsUrls: stack.metricsUrls,
    socketsPerUser: Number(LOAD_ENV.MAX_SOCKETS_PER_USER),
    stop: () => stack.stop(),
  };
}

/**
 * A gateway someone else runs: its limits are its own (per-address and per-user caps may refuse a
 * large run), and CPU is read only for the client and the local services, if any run.
 */
export function urlTarget(url: string): Target {
  return {
    mode: 'url',
    url: url.replace(/\/+$/, ''),
    description: `a gateway already running at ${url} (its limits as it was started with; CPU of its processes not read)`,
    procs: () => infraProcesses(),
    socketsPerUser: 20,
    stop: async () => {},
  };
}

/** The target a command line names: `--url` wins, else `--mode embedded|real`. */
export async function openTarget(args: { mode?: string; url?: string }): Promise<Target> {
  if (args.url) return urlTarget(args.url);
  const mode = args.mode ?? 'embedded';
  if (mode === 'embedded') return startEmbeddedTarget();
  if (mode === 'real') return startRealTarget();
  throw new Error(`--mode must be embedded or real (or give --url), not ${mode}`);
}
