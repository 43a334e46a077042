/**
 * Applies the users migrations to every physical database of USERS_DB_SHARDS
 * (creating the databases). Run before starting or upgrading the function:
 *   USERS_DB_SHARDS='0-31=mysql://…/users_0;32-63=mysql://…/users_1' npm run migrate -w @parley/fn-users
 */
import { createLogger, loadConfig, migrate, readMigrations } from '@parley/runtime';
import { z } from 'zod';
import { ShardSpecSchema } from './deps.real';
import { USERS_MIGRATIONS_DIR } from './user-store.mysql';

const log = createLogger('users-migrate');
try {
  const cfg = loadConfig(z.object({ USERS_DB_SHARDS: ShardSpecSchema }));
  const applied = await migrate(
    cfg.USERS_DB_SHARDS,
    await readMigrations(USERS_MIGRATIONS_DIR),
    log,
  );
  log.info({ applied }, 'users migrations up to date');
} catch (err) {
  log.fatal({ err }, 'users migration failed');
  process.exitCode = 1;
}
