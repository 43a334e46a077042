/**
 * Test support over the real services of `tests/infra/up`: where they listen
 * (from the launcher, which reads `.parley/infra.env`) and fresh per-run names.
 */
import { randomBytes } from 'node:crypto';
import { infraEnv, twoShardSpec } from '@parley/launcher/infra';

export { freePort, type InfraEnv, infraEnv, REPO_ROOT } from '@parley/launcher/infra';

/** A short random suffix that keeps one test run's databases, topics and keys apart from another's. */
export const runId = (): string => randomBytes(4).toString('hex');

/**
 * A shard spec over fresh databases on both MariaDB instances: logical shards
 * 0-31 on instance A, 32-63 on instance B — two real physical shards.
 * @example const spec = freshShardSpec('messages'); await migrate(spec, migrations);
 */
export function freshShardSpec(service: string): string {
  return twoShardSpec(infraEnv(), `t_${service}_${runId()}`);
}
