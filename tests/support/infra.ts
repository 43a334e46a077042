/**
 * Where the real services of `tests/infra/up` listen, for tests that talk to
 * them (`*.real.test.ts`, tests/integration). Read from `.parley/infra.env`,
 * which `up` writes; the environment overrides it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
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

export function infraEnv(): InfraEnv {
  const file = join(REPO_ROOT, '.parley', 'infra.env');
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

/** A short random suffix that keeps one test run's databases, topics and keys apart from another's. */
export const runId = (): string => randomBytes(4).toString('hex');

/**
 * A shard spec over fresh databases on both MariaDB instances: logical shards
 * 0-31 on instance A, 32-63 on instance B — two real physical shards.
 * @example const spec = freshShardSpec('messages'); await migrate(spec, migrations);
 */
export function freshShardSpec(service: string): string {
  const { MYSQL_A_URL, MYSQL_B_URL } = infraEnv();
  const id = runId();
  return `0-31=${MYSQL_A_URL}/t_${service}_${id}_0;32-63=${MYSQL_B_URL}/t_${service}_${id}_1`;
}
