/**
 * Where the real services of `tests/infra/up` listen, for the real-mode stack
 * and the tests that talk to them (`*.real.test.ts`, tests/integration). Read from `.parley/infra.env`,
 * which `up` writes; the environment overrides it. PARLEY_INFRA_DIR names another set of services
 * (as `up` itself reads it): the fault suite runs on its own set, so it can break them freely.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface InfraEnv {
  MYSQL_A_URL: string;
  MYSQL_B_URL: string;
  REDIS_URL: string;
  KAFKA_BROKERS: string;
  ES_URL: string;
}

/** The state directory of the services `tests/infra/up` manages (PARLEY_INFRA_DIR, else .parley). */
export const infraDir = (): string => process.env.PARLEY_INFRA_DIR || join(REPO_ROOT, '.parley');

export function infraEnv(): InfraEnv {
  const file = join(infraDir(), 'infra.env');
  const fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = line.match(/^(?:export\s+)?([A-Z_]+)=(.*)$/);
      if (m) fromFile[m[1] as string] = (m[2] as string).replace(/^["']|["']$/g, '');
    }
  }
  const pick = (k: keyof InfraEnv): string => {
    const v = process.env[k] ?? fromFile[k];
    if (!v)
      throw new Error(`${k} is not set: run tests/infra/up first (it writes .parley/infra.env)`);
    return v;
  };
  return {
    MYSQL_A_URL: pick('MYSQL_A_URL'),
    MYSQL_B_URL: pick('MYSQL_B_URL'),
    REDIS_URL: pick('REDIS_URL'),
    KAFKA_BROKERS: pick('KAFKA_BROKERS'),
    ES_URL: pick('ES_URL'),
  };
}

/**
 * The shard map the real mode uses for a database: logical shards 0-31 on
 * MariaDB instance A, 32-63 on instance B — two real physical shards.
 * @example twoShardSpec(infraEnv(), 'parley_users') // '0-31=mysql://…:3307/parley_users_0;32-63=…'
 */
export function twoShardSpec(
  infra: Pick<InfraEnv, 'MYSQL_A_URL' | 'MYSQL_B_URL'>,
  db: string,
): string {
  return `0-31=${infra.MYSQL_A_URL}/${db}_0;32-63=${infra.MYSQL_B_URL}/${db}_1`;
}

/** The node that runs the bundles: PARLEY_NODE (Node 24 under npm test), else this process's. */
export const bundleNode = (): string => process.env.PARLEY_NODE || process.execPath;

/** A TCP port free on 127.0.0.1 right now (for a process about to be started). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
