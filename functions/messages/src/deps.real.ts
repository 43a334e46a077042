/**
 * The real adapters of messages, built from its config: the message DB shards
 * and the recent cache (the Message service's store, @parley/message-store),
 * the membership cache in Redis with the room service as its fallback, and
 * the token key.
 */
import { MysqlMessageStore } from '@parley/message-store/mysql';
import { RedisRecentCache } from '@parley/message-store/recent-cache/redis';
import {
  createRedis,
  createTokenService,
  JwtSecretSchema,
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
import type { MessagesDeps } from './app';

export const MessagesConfigSchema = z.object({
  /** Shard map of the message DB (the same as message-write's). */
  MESSAGE_DB_SHARDS: ShardSpecSchema,
  REDIS_URL: UrlSchema,
  /** The rooms function, for membership the cache does not know. */
  ROOMS_URL: UrlSchema,
  JWT_SECRET: JwtSecretSchema,
});
export type MessagesConfig = z.infer<typeof MessagesConfigSchema>;

/** @example const { deps, ready, close } = realMessages(cfg, ctx); */
export function realMessages(
  cfg: MessagesConfig,
  ctx: FunctionContext,
): Adapters<Pick<MessagesDeps, 'store' | 'recent' | 'isMember' | 'tokens'>> {
  const db = ShardedMysql.fromSpec(cfg.MESSAGE_DB_SHARDS, {
    metrics: { registry: ctx.registry, database: 'messages' },
  });
  const redis = createRedis(cfg.REDIS_URL, 'messages', { registry: ctx.registry });
  return {
    deps: {
      store: new MysqlMessageStore(db),
      recent: new RedisRecentCache(redis),
      isMember: membershipWithFallback(
        new RedisMembershipCache(redis),
        roomsMembershipLoader(serviceClient(cfg.ROOMS_URL)),
      ),
      tokens: createTokenService(cfg.JWT_SECRET),
    },
    ready: async () => (await db.ping()) && (await redis.ping()) === 'PONG',
    close: async () => {
      await db.close();
      redis.disconnect();
    },
  };
}
