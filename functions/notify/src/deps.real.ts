/**
 * notify in the real mode: the notification DB's MySQL shards, Redis (fan-out
 * and the membership cache, with the rooms function behind it), and the users
 * and messages functions over HTTP, from its validated config.
 */
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { MysqlNotificationStore } from '@parley/notification-store/mysql';
import {
  createRedis,
  membershipWithFallback,
  roomsMembershipLoader,
  ShardedMysql,
  ShardSpecSchema,
  serviceClient,
  UrlSchema,
} from '@parley/runtime';
import type { Adapters, FunctionContext } from '@parley/runtime/function-host';
import { RedisMembershipCache } from '@parley/runtime/membership/membership-cache.redis';
import { z } from 'zod';
import type { NotifyDeps } from './handler';
import { notifyMetrics } from './metrics';
import { httpLastSeqOf } from './room-seqs';
import { httpUserLookup } from './user-lookup';

export const NotifyConfigSchema = z.object({
  /** `0-31=mysql://…/notify_0;32-63=mysql://…/notify_1` (see runtime/src/sharding/shard-map.ts), by user id. */
  NOTIFY_DB_SHARDS: ShardSpecSchema,
  /** Fan-out to the gateways and the membership cache. */
  REDIS_URL: UrlSchema,
  /** The rooms function, for membership the cache does not know. */
  ROOMS_URL: UrlSchema,
  /** The users function (`/internal/users?usernames=`), to resolve `@mentions`. */
  USERS_URL: UrlSchema,
  /** The messages function (`/internal/rooms/summaries`), for a joiner's starting marker. */
  MESSAGES_URL: UrlSchema,
});
export type NotifyConfig = z.infer<typeof NotifyConfigSchema>;

/** @example const { deps, ready, close } = realNotify(cfg, ctx); */
export function realNotify(
  cfg: NotifyConfig,
  ctx: FunctionContext,
): Adapters<Omit<NotifyDeps, 'log'>> {
  const db = ShardedMysql.fromSpec(cfg.NOTIFY_DB_SHARDS, {
    metrics: { registry: ctx.registry, database: 'notify' },
  });
  const redis = createRedis(cfg.REDIS_URL, 'notify', { registry: ctx.registry });
  const fanout = new RedisFanout(redis);
  return {
    deps: {
      store: new MysqlNotificationStore(db),
      isMember: membershipWithFallback(
        new RedisMembershipCache(redis),
        roomsMembershipLoader(serviceClient(cfg.ROOMS_URL)),
      ),
      fanout,
      users: httpUserLookup(serviceClient(cfg.USERS_URL)),
      lastSeqOf: httpLastSeqOf(serviceClient(cfg.MESSAGES_URL)),
      metrics: notifyMetrics(ctx.registry),
    },
    ready: async () => (await db.ping()) && (await redis.ping()) === 'PONG',
    close: async () => {
      await fanout.close();
      await db.close();
      redis.disconnect();
    },
  };
}
