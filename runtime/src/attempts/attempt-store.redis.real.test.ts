import { infraEnv } from '@parley/tests/support/infra';
import { afterAll } from 'vitest';
import { createRedis } from '../redis';
import { describeAttemptStoreContract } from './attempt-store.contract';
import { RedisAttemptStore } from './attempt-store.redis';

const redis = createRedis(infraEnv().REDIS_URL, 'attempt-store-contract-test');
afterAll(() => redis.disconnect());

describeAttemptStoreContract('redis', () => new RedisAttemptStore(redis));
