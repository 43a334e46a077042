/** rooms in the real mode: the room DB's MySQL shards (read only) and the token key, from its config. */
import { MysqlRoomStore } from '@parley/room-store/mysql';
import {
  createTokenService,
  JwtSecretSchema,
  ShardedMysql,
  ShardSpecSchema,
} from '@parley/runtime';
import type { Adapters, FunctionContext } from '@parley/runtime/function-host';
import { z } from 'zod';
import type { RoomsDeps } from './app';

export const RoomsConfigSchema = z.object({
  /** The room DB's shard map, the same as room-ops's (this function only reads it). */
  ROOMS_DB_SHARDS: ShardSpecSchema,
  JWT_SECRET: JwtSecretSchema,
});
export type RoomsConfig = z.infer<typeof RoomsConfigSchema>;

/** @example const { deps, ready, close } = realRooms(cfg, ctx); */
export function realRooms(
  cfg: RoomsConfig,
  ctx: FunctionContext,
): Adapters<Pick<RoomsDeps, 'store' | 'tokens'>> {
  const db = ShardedMysql.fromSpec(cfg.ROOMS_DB_SHARDS, {
    metrics: { registry: ctx.registry, database: 'rooms' },
  });
  return {
    deps: { store: new MysqlRoomStore(db), tokens: createTokenService(cfg.JWT_SECRET) },
    ready: () => db.ping(),
    close: () => db.close(),
  };
}
