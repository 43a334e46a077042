/** One way to make a Redis client, so every process has the same retry and naming behaviour. */
import { Redis } from 'ioredis';

export { Redis };

/** @example const redis = createRedis(cfg.REDIS_URL, 'gateway'); */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: `parley-${name}`,
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  });
}
