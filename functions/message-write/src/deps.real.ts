/**
 * The real adapters of message-write, built from the environment: MySQL
 * shards, Redis (recent cache, fan-out, membership cache), the room service
 * (membership fallback) and the KafkaSink behind K_SINK.
 */
import { httpEventSink } from '@parley/eventing';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { MysqlMessageStore } from '@parley/message-store/mysql';
import { RedisRecentCache } from '@parley/message-store/recent-cache/redis';
import {
  createRedis,
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
import type { MessageWriteDeps } from './handler';
import { messageWriteMetrics } from './metrics';

export const MessageWriteConfigSchema = z.object({
  /** Shard map of the message DB: `0-31=mysql://…/db0;32-63=mysql://…/db1`. */
  MESSAGE_DB_SHARDS: z.string().min(1),
  REDIS_URL: z.string().url(),
  /** Where emitted events go (a KafkaSink; injected by a SinkBinding under Knative). */
  K_SINK: z.string().url(),
  /** The rooms function, for membership the cache does not know. */
  ROOMS_URL: z.string().url(),
});
export type MessageWriteConfig = z.infer<typeof MessageWriteConfigSchema>;

export interface RealMessageWrite {
  deps: MessageWriteDeps;
  ready: () => Promise<boolean>;
  close: () => Promise<void>;
}

/** @example const { deps, ready } = realMessageWriteDeps(log, registry); */
export function realMessageWriteDeps(
  log: Logger,
  registry: Registry,
  env: Record<string, string | undefined> = process.env,
): RealMessageWrite {
  const cfg = loadConfig(MessageWriteConfigSchema, env);
  const db = ShardedMysql.fromSpec(cfg.MESSAGE_DB_SHARDS);
  const redis = createRedis(cfg.REDIS_URL, 'message-write');
  const fanout = new RedisFanout(redis);
  const isMember = membershipWithFallback(
    new RedisMembershipCache(redis),
    roomsMembershipLoader(serviceClient(cfg.ROOMS_URL)),
  );
  return {
    deps: {
      store: new MysqlMessageStore(db),
      recent: new RedisRecentCache(redis),
      isMember,
      fanout,
      sink: httpEventSink(cfg.K_SINK),
      log,
      metrics: messageWriteMetrics(registry),
    },
    ready: async () => (await db.ping()) && (await redis.ping()) === 'PONG',
    close: async () => {
      await fanout.close();
      await db.close();
      redis.disconnect();
    },
  };
}
