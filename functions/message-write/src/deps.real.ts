/**
 * The real adapters of message-write, built from its config: MySQL shards,
 * Redis (recent cache, fan-out, membership cache), the room service
 * (membership fallback) and the KafkaSink behind K_SINK.
 */
import { httpEventSink } from '@parley/eventing';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { MysqlMessageStore } from '@parley/message-store/mysql';
import { RedisRecentCache } from '@parley/message-store/recent-cache/redis';
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
import type { MessageWriteDeps } from './handler';
import { RedisLiveMarks } from './live-marks';
import { messageWriteMetrics } from './metrics';

export const MessageWriteConfigSchema = z.object({
  /** Shard map of the message DB: `0-31=mysql://…/db0;32-63=mysql://…/db1`. */
  MESSAGE_DB_SHARDS: ShardSpecSchema,
  REDIS_URL: UrlSchema,
  /** Where emitted events go (a KafkaSink; injected by a SinkBinding under Knative). */
  K_SINK: UrlSchema,
  /** The rooms function, for membership the cache does not know. */
  ROOMS_URL: UrlSchema,
});
export type MessageWriteConfig = z.infer<typeof MessageWriteConfigSchema>;

/** @example const { deps, ready, close } = realMessageWrite(cfg, ctx); */
export function realMessageWrite(
  cfg: MessageWriteConfig,
  ctx: FunctionContext,
): Adapters<Omit<MessageWriteDeps, 'log'>> {
  const db = ShardedMysql.fromSpec(cfg.MESSAGE_DB_SHARDS, {
    metrics: { registry: ctx.registry, database: 'messages' },
  });
  const redis = createRedis(cfg.REDIS_URL, 'message-write', { registry: ctx.registry });
  const fanout = new RedisFanout(redis);
  const isMember = membershipWithFallback(
    new RedisMembershipCache(redis),
    roomsMembershipLoader(serviceClient(cfg.ROOMS_URL)),
  );
  return {
    deps: {
      store: new MysqlMessageStore(db),
      recent: new RedisRecentCache(redis),
      live: new RedisLiveMarks(redis),
      isMember,
      fanout,
      sink: httpEventSink(cfg.K_SINK),
      metrics: messageWriteMetrics(ctx.registry),
    },
    ready: async () => (await db.ping()) && (await redis.ping()) === 'PONG',
    close: async () => {
      await fanout.close();
      await db.close();
      redis.disconnect();
    },
  };
}
