import { infraEnv } from '@parley/tests/support/infra';
import { afterAll } from 'vitest';
import { createRedis } from '../redis';
import { describeMembershipCacheContract } from './membership-cache.contract';
import { RedisMembershipCache } from './membership-cache.redis';

const redis = createRedis(infraEnv().REDIS_URL, 'membership-contract-test');
afterAll(() => redis.disconnect());

describeMembershipCacheContract('redis', () => new RedisMembershipCache(redis));
