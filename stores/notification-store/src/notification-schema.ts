/** The notification DB's migrations (`src/migrations/`, copied beside a bundle by the build), applied to every physical shard. notify applies them. */
import { fileURLToPath } from 'node:url';
import { type Logger, migrate, readMigrations } from '@parley/runtime';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * @example await migrateNotificationDb(cfg.NOTIFY_DB_SHARDS, log) // → migrations applied
 */
export async function migrateNotificationDb(spec: string, log?: Logger): Promise<number> {
  return migrate(spec, await readMigrations(MIGRATIONS_DIR), log);
}
