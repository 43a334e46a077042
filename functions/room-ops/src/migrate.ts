/**
 * CLI: applies the room DB's migrations to every physical database of
 * ROOMS_DB_SHARDS (creating the databases). Safe to run again and from
 * several processes at once.
 * @example ROOMS_DB_SHARDS='0-31=mysql://…/rooms_0;32-63=mysql://…/rooms_1' npm run migrate -w @parley/fn-room-ops
 */

import { migrateRoomDb } from '@parley/room-store/migrations';
import { createLogger, loadConfig } from '@parley/runtime';
import { z } from 'zod';

const cfg = loadConfig(z.object({ ROOMS_DB_SHARDS: z.string().min(1) }));
const log = createLogger('room-ops-migrate');
const applied = await migrateRoomDb(cfg.ROOMS_DB_SHARDS, log);
log.info({ applied }, 'room DB migrated');
