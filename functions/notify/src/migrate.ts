/**
 * The migration step of the notification DB: applies its migrations to every
 * physical database of NOTIFY_DB_SHARDS (creating the databases). Safe to run
 * again and from several processes at once.
 * @example NOTIFY_DB_SHARDS='0-31=mysql://…/notify_0;32-63=mysql://…/notify_1' node functions/notify/dist/migrate.mjs
 */
import { migrateNotificationDb } from '@parley/notification-store/migrations';
import { ShardSpecSchema } from '@parley/runtime';
import { runStep } from '@parley/runtime/function-host';
import { z } from 'zod';

await runStep(
  'notify-migrate',
  z.object({ NOTIFY_DB_SHARDS: ShardSpecSchema }),
  async (cfg, log) => ({
    applied: await migrateNotificationDb(cfg.NOTIFY_DB_SHARDS, log),
  }),
);
