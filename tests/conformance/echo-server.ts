/**
 * A WebSocket echo server on the gateway's `ws` with the gateway's options, for the Autobahn
 * fuzzing client (tests/conformance/autobahn.sh). Most Autobahn cases assume an echo server;
 * the gateway's /ws is not one (it needs a token and answers JSON with protocol frames), so this
 * server answers the question "does `ws`, configured as the gateway configures it, conform?".
 *
 * Options mirrored from connection-gateway/src/server.ts (keep in step by hand):
 * - `maxPayload` = 4 × LIMITS.frameMaxBytes (64 KiB): past it `ws` closes with 1009;
 * - `perMessageDeflate` not set: the `ws` server default, off (no permessage-deflate);
 * - `noServer`, with the upgrade handled on a node:http server, as the gateway does.
 *
 * Usage: npx tsx tests/conformance/echo-server.ts [--port 9001] [--host 127.0.0.1] [--ws-defaults]
 * `--ws-defaults` leaves `maxPayload` at the `ws` default (100 MiB) instead: Autobahn's group 9
 * sends messages up to 16 MiB, which the gateway's limit closes with 1009.
 * Prints `listening <url>` once it accepts connections; stops on SIGTERM/SIGINT.
 * Loopback only by default.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { LIMITS } from '@parley/protocol';
import { WebSocketServer } from 'ws';

/** The gateway's HARD_MAX_PAYLOAD (connection-gateway/src/server.ts). */
export const GATEWAY_MAX_PAYLOAD = 4 * LIMITS.frameMaxBytes;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9001' },
    host: { type: 'string', default: '127.0.0.1' },
    'ws-defaults': { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`echo-server: --port must be an integer 0..65535, got ${values.port}`);
  process.exit(2);
}

const wss = new WebSocketServer(
  values['ws-defaults'] ? { noServer: true } : { noServer: true, maxPayload: GATEWAY_MAX_PAYLOAD },
);
const server = createServer((_req, res) => {
  res.writeHead(426, { 'content-type': 'text/plain' });
  res.end('WebSocket echo server: upgrade required\n');
});
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy());
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('error', () => {
      // `ws` has already closed the socket with the right code (1002, 1007, 1009); the fuzzer
      // judges that code, nothing to add here.
    });
  });
});
server.listen(port, values.host, () => {
  const a = server.address();
  const actual = typeof a === 'object' && a ? a.port : port;
  console.log(`listening ws://${values.host}:${actual}`);
});

const stop = () => {
  for (const c of wss.clients) c.terminate();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
