/** The room DB's migrations (functions/room-ops/migrations), applied to every physical shard. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Logger, migrate, readMigrations } from '@parley/runtime';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/**
 * @example await migrateRoomDb(cfg.ROOMS_DB_SHARDS, log) // → migrations applied
 */
export async function migrateRoomDb(spec: string, log?: Logger): Promise<number> {
  return migrate(spec, await readMigrations(MIGRATIONS_DIR), log);
}
