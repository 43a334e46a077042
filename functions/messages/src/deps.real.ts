/**
 * The real adapters of messages, built from the environment: the message DB
 * shards and the recent cache (both owned by message-write), the membership
 * cache in Redis with the room service as its fallback, and the token key.
 */

import { MysqlMessageStore } from '@parley/message-store/mysql';
import { RedisRecentCache } from '@parley/message-store/recent-cache/redis';
import {
  createRedis,
  createTokenService,
  type Logger,
  loadConfig,
  membershipWithFallback,
  roomsMembershipLoader,
  ShardedMysql,
  serviceClient,
} from '@parley/runtime';
import { RedisMembershipCache } from '@parley/runtime/membership/membership-cache.redis';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { MessagesDeps } from './app';

export const MessagesConfigSchema = z.object({
  /** Shard map of the message DB (the same as message-write's). */
  MESSAGE_DB_SHARDS: z.string().min(1),
  REDIS_URL: z.string().url(),
  /** The rooms function, for membership the cache does not know. */
  ROOMS_URL: z.string().url(),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters'),
});
export type MessagesConfig = z.infer<typeof MessagesConfigSchema>;

export interface RealMessages {
  deps: MessagesDeps;
  close: () => Promise<void>;
}

/** @example const { deps } = realMessagesDeps(log, registry); registerFunction('messages', createMessagesApp(deps)); */
export function realMessagesDeps(
  log: Logger,
  registry: Registry,
  env: Record<string, string | undefined> = process.env,
): RealMessages {
  const cfg = loadConfig(MessagesConfigSchema, env);
  const db = ShardedMysql.fromSpec(cfg.MESSAGE_DB_SHARDS);
  const redis = createRedis(cfg.REDIS_URL, 'messages');
  return {
    deps: {
      store: new MysqlMessageStore(db),
      recent: new RedisRecentCache(redis),
      isMember: membershipWithFallback(
        new RedisMembershipCache(redis),
        roomsMembershipLoader(serviceClient(cfg.ROOMS_URL)),
      ),
      tokens: createTokenService(cfg.JWT_SECRET),
      log,
      registry,
      ready: async () => (await db.ping()) && (await redis.ping()) === 'PONG',
    },
    close: async () => {
      await db.close();
      redis.disconnect();
    },
  };
}
