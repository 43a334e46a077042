/**
 * room-ops in the real mode: MySQL shards, Redis (membership cache and
 * fan-out), the K_SINK event sink and the users function over HTTP, from its
 * validated config.
 */
import { httpEventSink } from '@parley/eventing';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { MysqlRoomStore } from '@parley/room-store/mysql';
import {
  createRedis,
  ShardedMysql,
  ShardSpecSchema,
  serviceClient,
  UrlSchema,
} from '@parley/runtime';
import type { Adapters, FunctionContext } from '@parley/runtime/function-host';
import { RedisMembershipCache } from '@parley/runtime/membership/membership-cache.redis';
import { z } from 'zod';
import type { RoomOpsDeps } from './handler';
import { httpUserDirectory } from './user-directory';

export const RoomOpsConfigSchema = z.object({
  /** `0-31=mysql://…/rooms_0;32-63=mysql://…/rooms_1` (see runtime/src/sharding/shard-map.ts). */
  ROOMS_DB_SHARDS: ShardSpecSchema,
  REDIS_URL: UrlSchema,
  /** Where emitted facts go: a KafkaSink (Knative SinkBinding) or eventing's stand-in. */
  K_SINK: UrlSchema,
  /** Base URL of the users function (for `/internal/users`). */
  USERS_URL: UrlSchema,
});
export type RoomOpsConfig = z.infer<typeof RoomOpsConfigSchema>;

/** @example const { deps, ready, close } = realRoomOps(cfg, ctx); */
export function realRoomOps(
  cfg: RoomOpsConfig,
  ctx: FunctionContext,
): Adapters<Omit<RoomOpsDeps, 'log'>> {
  const db = ShardedMysql.fromSpec(cfg.ROOMS_DB_SHARDS, {
    metrics: { registry: ctx.registry, database: 'rooms' },
  });
  const redis = createRedis(cfg.REDIS_URL, 'room-ops', { registry: ctx.registry });
  const fanout = new RedisFanout(redis);
  return {
    deps: {
      store: new MysqlRoomStore(db),
      membership: new RedisMembershipCache(redis),
      fanout,
      sink: httpEventSink(cfg.K_SINK),
      users: httpUserDirectory(serviceClient(cfg.USERS_URL)),
    },
    ready: async () => (await db.ping()) && (await redis.ping()) === 'PONG',
    close: async () => {
      await fanout.close();
      await db.close();
      redis.disconnect();
    },
  };
}
