/**
 * The migration step of the room DB: applies its migrations to every
 * physical database of ROOMS_DB_SHARDS (creating the databases). Safe to run
 * again and from several processes at once.
 * @example ROOMS_DB_SHARDS='0-31=mysql://…/rooms_0;32-63=mysql://…/rooms_1' node functions/room-ops/dist/migrate.mjs
 */
import { migrateRoomDb } from '@parley/room-store/migrations';
import { ShardSpecSchema } from '@parley/runtime';
import { runStep } from '@parley/runtime/function-host';
import { z } from 'zod';

await runStep(
  'room-ops-migrate',
  z.object({ ROOMS_DB_SHARDS: ShardSpecSchema }),
  async (cfg, log) => ({
    applied: await migrateRoomDb(cfg.ROOMS_DB_SHARDS, log),
  }),
);
