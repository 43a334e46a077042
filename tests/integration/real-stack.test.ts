/**
 * Protocol v1 on the real stack: MariaDB ×2, Redis, Kafka, Elasticsearch, every function in
 * its own process, the KafkaSource/KafkaSink stand-ins and two gateways fanning out through
 * Redis. The single-gateway suite runs against the first gateway; the multi-gateway suite
 * across both, and it crashes the first one (then starts it again), so it runs last.
 */

import { gatewayName, type Stack, startStack } from '@parley/launcher/stack';
import { afterAll, beforeAll } from 'vitest';
import { describeMultiGatewaySuite } from './multi-gateway.suite';
import { describeNotificationsSuite } from './notifications.suite';
import { describeProtocolSuite } from './protocol.suite';

let stack: Stack | undefined;

beforeAll(async () => {
  // Ports apart from `npm start` (8080) and `npm run start:real`, so a running dev stack does not collide.
  stack = await startStack({
    gatewayPort: 18080,
    gateways: 2,
    portBase: 18100,
    dbPrefix: 'parley_it',
    verbose: true,
    // A short presence TTL, so that the multi-gateway suite sees a killed gateway's users go
    // offline within seconds (TTL + TTL/6 + the 1 s flush) rather than 35 s.
    env: { PRESENCE_TTL_MS: '3000' },
  });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const running = (): Stack => {
  if (!stack) throw new Error('stack did not start');
  return stack;
};
/** The stack's process name of gateway `i` (see `Stack.gatewayUrls`). */

describeProtocolSuite(
  'real stack (Kafka, MariaDB ×2, Redis, Elasticsearch)',
  () => running().gatewayUrl,
);

describeNotificationsSuite(
  'real stack (Kafka, MariaDB ×2, Redis, Elasticsearch)',
  () => running().gatewayUrl,
);

describeMultiGatewaySuite('real stack, two gateways', () => {
  const s = running();
  return {
    gatewayUrls: s.gatewayUrls,
    killGateway: (i) => s.kill(gatewayName(i)),
    startGateway: (i) => s.start(gatewayName(i)),
    presenceTtlMs: Number(s.env.PRESENCE_TTL_MS),
  };
});
