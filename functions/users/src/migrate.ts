/**
 * The migration step of the user DB: applies `src/migrations/*.sql` to every
 * physical database of USERS_DB_SHARDS (creating the databases). Run before
 * starting or upgrading the function; safe to run again and concurrently.
 *   USERS_DB_SHARDS='0-31=mysql://…/users_0;32-63=mysql://…/users_1' node functions/users/dist/migrate.mjs
 */
import { migrate, readMigrations, ShardSpecSchema } from '@parley/runtime';
import { runStep } from '@parley/runtime/function-host';
import { z } from 'zod';
import { USERS_MIGRATIONS_DIR } from './user-store.mysql';

await runStep(
  'users-migrate',
  z.object({ USERS_DB_SHARDS: ShardSpecSchema }),
  async (cfg, log) => ({
    applied: await migrate(cfg.USERS_DB_SHARDS, await readMigrations(USERS_MIGRATIONS_DIR), log),
  }),
);
