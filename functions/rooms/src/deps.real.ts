/** rooms in the real mode: the room DB's MySQL shards and the token secret, from a validated config. */
import { MysqlRoomStore } from '@parley/room-store/mysql';
import {
  createLogger,
  createMetricsRegistry,
  createTokenService,
  loadConfig,
  ShardedMysql,
} from '@parley/runtime';
import { z } from 'zod';
import type { RoomsDeps } from './app';

export const RoomsConfigSchema = z.object({
  /** The room DB's shard map, the same as room-ops's (this function only reads it). */
  ROOMS_DB_SHARDS: z.string().min(1),
  /** HS256 secret shared with users and the gateway; no default. */
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type RoomsConfig = z.infer<typeof RoomsConfigSchema>;

/** @example const { deps } = realRooms(); registerFunction('rooms', createRoomsApp(deps)); */
export function realRooms(env: Record<string, string | undefined> = process.env) {
  const cfg = loadConfig(RoomsConfigSchema, env);
  const db = ShardedMysql.fromSpec(cfg.ROOMS_DB_SHARDS);
  const deps: RoomsDeps = {
    store: new MysqlRoomStore(db),
    tokens: createTokenService(cfg.JWT_SECRET),
    log: createLogger('rooms', cfg.LOG_LEVEL),
    registry: createMetricsRegistry('rooms'),
    ready: () => db.ping(),
  };
  return { deps, close: () => db.close() };
}
