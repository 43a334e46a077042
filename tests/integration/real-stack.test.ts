/**
 * Protocol v1 on the real stack: MariaDB ×2, Redis, Kafka, Elasticsearch, every function in
 * its own process, the KafkaSource/KafkaSink stand-ins and the gateway.
 */

import { type Stack, startStack } from '@parley/launcher/stack';
import { afterAll, beforeAll } from 'vitest';
import { describeProtocolSuite } from './protocol.suite';

let stack: Stack | undefined;

beforeAll(async () => {
  // Ports apart from `npm start` (8080) and `npm run start:real`, so a running dev stack does not collide.
  stack = await startStack({
    gatewayPort: 18080,
    portBase: 18100,
    dbPrefix: 'parley_it',
    verbose: true,
  });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describeProtocolSuite('real stack (Kafka, MariaDB ×2, Redis, Elasticsearch)', () => {
  if (!stack) throw new Error('stack did not start');
  return stack.gatewayUrl;
});
