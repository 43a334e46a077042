/**
 * Test support over the real services of `tests/infra/up`: where they listen
 * (from the launcher, which reads `.parley/infra.env`) and fresh per-run names.
 */
import { randomBytes } from 'node:crypto';
import { infraEnv } from '@parley/launcher/infra';

export { type InfraEnv, infraEnv, REPO_ROOT } from '@parley/launcher/infra';

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
