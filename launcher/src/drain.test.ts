/**
 * Graceful drain (what SIGTERM does): open sockets are told to reconnect
 * elsewhere (1001) and the gateway stops taking new ones.
 */

import { Api, WsClient } from '@parley/perf/client';
import { describe, expect, it } from 'vitest';
import { startEmbedded } from './embedded';

describe('drain', () => {
  it('closes open sockets with 1001 and refuses new connections', async () => {
    const embedded = await startEmbedded({ port: 0, logLevel: 'silent' });
    const api = new Api(embedded.gateway.url);
    const alice = await api.signup('drainer');
    const ws = await WsClient.connect(api, alice.token);
    const closed = ws.waitClosed();
    await embedded.stop();
    expect((await closed).code).toBe(1001);
    expect(await WsClient.handshakeStatus(`${api.wsUrl()}?token=${alice.token}`)).not.toBe(101);
  });
});
