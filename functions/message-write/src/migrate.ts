/**
 * CLI: applies the message DB migrations to every physical database of
 * MESSAGE_DB_SHARDS (creating the databases). Safe to run repeatedly and
 * concurrently. Usage: `MESSAGE_DB_SHARDS=... npm run migrate -w functions/message-write`
 */

import { messageMigrations } from '@parley/message-store/migrations';
import { createLogger, loadConfig, migrate } from '@parley/runtime';
import { z } from 'zod';

const log = createLogger('message-write-migrate');
const cfg = loadConfig(z.object({ MESSAGE_DB_SHARDS: z.string().min(1) }));
try {
  const applied = await migrate(cfg.MESSAGE_DB_SHARDS, await messageMigrations(), log);
  log.info({ applied }, 'message DB migrated');
} catch (err) {
  log.error({ err }, 'migration failed');
  process.exitCode = 1;
}
