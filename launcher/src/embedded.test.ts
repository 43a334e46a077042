/**
 * Protocol v1 against the embedded mode: the same suite the real stack
 * passes, with the memory bus and in-memory stores behind the same gateway.
 */

import { describeNotificationsSuite } from '@parley/tests/integration/notifications.suite';
import { describeProtocolSuite } from '@parley/tests/integration/protocol.suite';
import { afterAll, beforeAll } from 'vitest';
import { type Embedded, startEmbedded } from './embedded';

let embedded: Embedded | undefined;
beforeAll(async () => {
  embedded = await startEmbedded({
    port: 0,
    logLevel: 'warn',
    // The suite is one client (127.0.0.1) signing up a dozen users in seconds.
    limits: { SIGNUPS_PER_ADDRESS_PER_HOUR: 1000, RATE_HTTP_ADDRESS_BURST: 1000 },
  });
});
afterAll(async () => {
  await embedded?.stop();
});

describeProtocolSuite('embedded', () => {
  if (!embedded) throw new Error('embedded mode did not start');
  return embedded.gateway.url;
});

describeNotificationsSuite('embedded', () => {
  if (!embedded) throw new Error('embedded mode did not start');
  return embedded.gateway.url;
});
