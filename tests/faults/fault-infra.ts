/**
 * The fault suite's own MariaDB ×2, Redis, Kafka and Elasticsearch: the same
 * `tests/infra/up`, in another state directory on other ports, so the suite can
 * kill a broker, restart a shard or wipe Redis without touching the services
 * every other test (and a developer's `npm run start:real`) uses.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@parley/launcher/infra';

export const FAULT_INFRA_ENV: Record<string, string> = {
  PARLEY_INFRA_DIR: join(REPO_ROOT, '.parley', 'faults'),
  PARLEY_MYSQL_A_PORT: '3317',
  PARLEY_MYSQL_B_PORT: '3318',
  PARLEY_REDIS_PORT: '6390',
  PARLEY_KAFKA_PORT: '9192',
  PARLEY_KAFKA_CONTROLLER_PORT: '9193',
  PARLEY_ES_PORT: '9210',
  PARLEY_ES_TRANSPORT_PORT: '9310',
};

/** Points this process (and the `up`/`down` it runs, and `infraEnv()`) at the fault suite's services. */
export function useFaultInfra(): void {
  Object.assign(process.env, FAULT_INFRA_ENV);
  // Settings from a surrounding shell would override infra.env: the suite's own set must win.
  for (const k of ['MYSQL_A_URL', 'MYSQL_B_URL', 'REDIS_URL', 'KAFKA_BROKERS', 'ES_URL'])
    delete process.env[k];
}

export type Service = 'kafka' | 'redis' | 'mysqlA' | 'mysqlB' | 'es';

const PIDFILES: Record<Service, string> = {
  kafka: 'kafka/kafka.pid',
  redis: 'redis/redis.pid',
  mysqlA: 'mysqlA/mariadbd.pid',
  mysqlB: 'mysqlB/mariadbd.pid',
  es: 'es/es.pid',
};

const run = promisify(execFile);

/** SIGKILL of one of the suite's services, by its pidfile: a crashed broker, node or shard. */
export async function killService(service: Service): Promise<void> {
  const file = join(FAULT_INFRA_ENV.PARLEY_INFRA_DIR as string, PIDFILES[service]);
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${file}`);
  // Elasticsearch runs as a process group (see tests/infra/up); the others as one process.
  process.kill(service === 'es' ? -pid : pid, 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${service} (pid ${pid}) did not die`);
}

const upName = (s: Service): string => (s === 'mysqlA' || s === 'mysqlB' ? 'mysql' : s);

/** Starts the service again with tests/infra/up (idempotent: what runs is left alone). */
export async function startService(service: Service): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'tests/infra/up'), '--only', upName(service)], {
    env: { ...process.env, ...FAULT_INFRA_ENV },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/**
 * Stops every service of the suite's set and deletes their data (the build caches stay), so each
 * run starts from empty topics, databases and indexes: a backlog one run left in a partition must
 * not slow down the next.
 */
export async function wipeAll(): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'tests/infra/down'), '--wipe'], {
    env: { ...process.env, ...FAULT_INFRA_ENV },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** Stops every service of the suite's set (its data stays for a look after the run). */
export async function stopAll(): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'tests/infra/down')], {
    env: { ...process.env, ...FAULT_INFRA_ENV },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** Stops the service cleanly with tests/infra/down. */
export async function stopService(service: Service): Promise<void> {
  if (service === 'mysqlA' || service === 'mysqlB')
    throw new Error('tests/infra/down stops both MariaDB shards: kill one instead');
  await run('bash', [join(REPO_ROOT, 'tests/infra/down'), '--only', upName(service)], {
    env: { ...process.env, ...FAULT_INFRA_ENV },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** The directory of one service's state (e.g. Redis's, to remove its dump). */
export const serviceDir = (service: Service): string =>
  join(FAULT_INFRA_ENV.PARLEY_INFRA_DIR as string, service);
