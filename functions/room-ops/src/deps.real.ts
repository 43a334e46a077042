/**
 * room-ops in the real mode: MySQL shards, Redis (membership cache and
 * fanout), the K_SINK event sink and the users function over HTTP, from a
 * validated config.
 */
import { httpEventSink } from '@parley/eventing';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { MysqlRoomStore } from '@parley/room-store/mysql';
import {
  createLogger,
  createMetricsRegistry,
  createRedis,
  loadConfig,
  ShardedMysql,
  serviceClient,
} from '@parley/runtime';
import { RedisMembershipCache } from '@parley/runtime/membership/membership-cache.redis';
import { z } from 'zod';
import type { RoomOpsDeps } from './handler';
import { httpUserDirectory } from './user-directory';

export const RoomOpsConfigSchema = z.object({
  /** `0-31=mysql://…/rooms_0;32-63=mysql://…/rooms_1` (see runtime/src/sharding/shard-map.ts). */
  ROOMS_DB_SHARDS: z.string().min(1),
  REDIS_URL: z.url(),
  /** Where emitted facts go: a KafkaSink (Knative SinkBinding) or eventing's stand-in. */
  K_SINK: z.url(),
  /** Base URL of the users function (for `/internal/users`). */
  USERS_URL: z.url(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type RoomOpsConfig = z.infer<typeof RoomOpsConfigSchema>;

/** @example const { deps, log, registry, ready } = realRoomOps(); */
export function realRoomOps(env: Record<string, string | undefined> = process.env) {
  const cfg = loadConfig(RoomOpsConfigSchema, env);
  const log = createLogger('room-ops', cfg.LOG_LEVEL);
  const db = ShardedMysql.fromSpec(cfg.ROOMS_DB_SHARDS);
  const redis = createRedis(cfg.REDIS_URL, 'room-ops');
  const deps: RoomOpsDeps = {
    store: new MysqlRoomStore(db),
    membership: new RedisMembershipCache(redis),
    fanout: new RedisFanout(redis),
    sink: httpEventSink(cfg.K_SINK),
    users: httpUserDirectory(serviceClient(cfg.USERS_URL)),
    log,
  };
  return {
    deps,
    log,
    registry: createMetricsRegistry('room-ops'),
    ready: async () => (await db.ping()) && (await redis.ping()) === 'PONG',
    close: async () => {
      await deps.fanout.close();
      await db.close();
      redis.disconnect();
    },
  };
}
