import { createRedis } from '@parley/runtime';
import { infraEnv, runId } from '@parley/tests/support/infra';
import { afterAll } from 'vitest';
import { describePresenceContract } from './presence-store.contract';
import { RedisPresenceStore } from './presence-store.redis';

const redis = createRedis(infraEnv().REDIS_URL, 'presence-test');
afterAll(() => redis.disconnect());
let n = 0;
describePresenceContract('redis', () => ({
  async gateways(ttl, now) {
    // Gateway ids of this run only: the sweep of another run's dead gateways is not this test's.
    const id = runId();
    return [
      new RedisPresenceStore(redis, `gw-a-${id}`, ttl, now),
      new RedisPresenceStore(redis, `gw-b-${id}`, ttl, now),
    ];
  },
  user: () => `u_presence_${runId()}_${++n}`,
}));
