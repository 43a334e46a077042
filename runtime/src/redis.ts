/** One way to make a Redis client, so every process has the same retry and naming behaviour. */
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { instrumentRedis } from './redis-metrics';

export { Redis };

export interface CreateRedisOptions {
  /** Times every command in this registry (`parley_redis_command_duration_seconds`; redis-metrics.ts). */
  registry?: Registry;
}

/** @example const redis = createRedis(cfg.REDIS_URL, 'gateway', { registry }); */
export function createRedis(url: string, name: string, opts: CreateRedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: `parley-${name}`,
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  });
  return opts.registry ? instrumentRedis(redis, opts.registry) : redis;
}
