/**
 * Protocol v1 against the embedded mode: the same suite the real stack
 * passes, with the memory bus and in-memory stores behind the same gateway.
 */

import { describeProtocolSuite } from '@parley/tests/integration/protocol.suite';
import { afterAll, beforeAll } from 'vitest';
import { type Embedded, startEmbedded } from './embedded';

let embedded: Embedded | undefined;
beforeAll(async () => {
  embedded = await startEmbedded({ port: 0, logLevel: 'warn' });
});
afterAll(async () => {
  await embedded?.stop();
});

describeProtocolSuite('embedded', () => {
  if (!embedded) throw new Error('embedded mode did not start');
  return embedded.gateway.url;
});
