/**
 * The migration step of the message DB: applies its migrations to every
 * physical database of MESSAGE_DB_SHARDS (creating the databases). Safe to
 * run repeatedly and concurrently.
 * @example MESSAGE_DB_SHARDS=… node functions/message-write/dist/migrate.mjs
 */
import { messageMigrations } from '@parley/message-store/migrations';
import { migrate, ShardSpecSchema } from '@parley/runtime';
import { runStep } from '@parley/runtime/function-host';
import { z } from 'zod';

await runStep(
  'message-write-migrate',
  z.object({ MESSAGE_DB_SHARDS: ShardSpecSchema }),
  async (cfg, log) => ({
    applied: await migrate(cfg.MESSAGE_DB_SHARDS, await messageMigrations(), log),
  }),
);
