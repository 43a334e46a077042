/**
 * The connection gateway: one port for the HTTP API (hono) and the
 * WebSockets (ws). Everything it knows about the rest of Parley comes in
 * through GatewayDeps, so the embedded and the real mode share this file.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { serve } from '@hono/node-server';
import { CLOSE_CODES, LIMITS } from '@parley/protocol';
import { installErrorHandler, mountOps, ParleyError, type TokenClaims } from '@parley/runtime';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Counter, Gauge } from 'prom-client';
import { type WebSocket, WebSocketServer } from 'ws';
import { CommandWaiter } from './commands';
import type { GatewayDeps } from './deps';
import { createApi } from './http/api';
import { serveWebClient } from './http/static';
import { PROTOCOL_NAME, tokenFromUpgrade } from './middleware/auth';
import { originAllowed } from './middleware/origin';
import { handleFrame } from './ws/frames';
import { Hub } from './ws/hub';
import { Session } from './ws/session';

export interface Gateway {
  server: Server;
  url: string;
  hub: Hub;
  /** Stops taking connections, closes sockets with 1001, waits for in-flight work (SIGTERM). */
  drain(): Promise<void>;
}

/** ws closes a socket itself (1009) only past this; below it, oversized frames get an error frame. */
const HARD_MAX_PAYLOAD = 4 * LIMITS.frameMaxBytes;
/** HTTP request bodies larger than this are refused (413) before they are read. */
const HTTP_BODY_MAX_BYTES = 64 * 1024;
/**
 * Frames a socket may have waiting to be handled (they queue while its
 * session is set up, or behind a slow sync); past this the client is not
 * reading its own answers, and the socket is closed (1008).
 */
const QUEUE_MAX_FRAMES = 256;
const QUEUE_MAX_BYTES = 1024 * 1024;
const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  503: 'Service Unavailable',
};

export async function startGateway(
  deps: GatewayDeps,
  opts: { port: number; host: string },
): Promise<Gateway> {
  const { log, registry, limits } = deps;
  let draining = false;
  const hub = new Hub(deps.fanout, log);
  const waiter = new CommandWaiter(deps.fanout, deps.commands, limits.COMMAND_TIMEOUT_MS);

  const connections = new Gauge({
    name: 'parley_gateway_connections',
    help: 'Open WebSockets',
    registers: [registry],
    collect() {
      this.set(hub.sessionCount);
    },
  });
  void connections;
  const handshakes = new Counter({
    name: 'parley_gateway_handshakes_total',
    help: 'WebSocket handshakes by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'parley_gateway_frames_refused_total',
    help: 'Client frames refused, by error code',
    labelNames: ['code'],
    registers: [registry],
  });
  const framesIn = new Counter({
    name: 'parley_gateway_frames_in_total',
    help: 'Client frames received',
    registers: [registry],
  });

  const app = new Hono();
  installErrorHandler(app, log);
  mountOps(app, {
    registry,
    ready: async () => !draining && (deps.ready ? await deps.ready() : true),
  });
  app.use(
    '/api/v1/*',
    bodyLimit({
      maxSize: HTTP_BODY_MAX_BYTES,
      onError: (c) =>
        c.json(
          {
            error: {
              code: 'payload_too_large',
              message: `request bodies are limited to ${HTTP_BODY_MAX_BYTES} bytes`,
            },
          },
          413,
        ),
    }),
  );
  app.route('/api/v1', createApi(deps, waiter));
  if (deps.staticRoot) serveWebClient(app, deps.staticRoot);

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: HARD_MAX_PAYLOAD,
    // Select `parley.v1` when offered, so the token is not echoed back in the response.
    handleProtocols: (protocols) =>
      protocols.has(PROTOCOL_NAME) ? PROTOCOL_NAME : (protocols.values().next().value ?? false),
  });

  const server = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', () => resolve());
    server.once('error', reject);
  });

  const reject = (socket: Duplex, status: number, code: string, message: string) => {
    handshakes.inc({ outcome: code });
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/ws') return reject(socket, 404, 'not_found', 'no such endpoint');
    if (draining) return reject(socket, 503, 'unavailable', 'gateway is draining; reconnect');
    if (!originAllowed(req.headers.origin, deps.allowedOrigins)) {
      return reject(socket, 403, 'forbidden', 'origin not allowed');
    }
    deps.tokens.verify(tokenFromUpgrade(url, req.headers['sec-websocket-protocol'])).then(
      (claims) => wss.handleUpgrade(req, socket, head, (ws) => void onConnection(ws, claims)),
      (err) =>
        reject(
          socket,
          401,
          'unauthorized',
          err instanceof ParleyError ? err.message : 'invalid token',
        ),
    );
  });

  async function onConnection(ws: WebSocket, claims: TokenClaims): Promise<void> {
    if (draining) {
      ws.close(CLOSE_CODES.goingAway.code, 'server restarting; reconnect');
      return;
    }
    handshakes.inc({ outcome: 'ok' });
    const session = new Session(randomUUID(), claims.userId, claims.exp, ws, {
      perSecond: limits.RATE_FRAMES_PER_SEC,
      burst: limits.RATE_BURST,
      strikes: limits.ABUSE_STRIKES,
    });
    const slog = log.child({ sessionId: session.id, userId: session.userId });
    // Frames are handled one at a time, in order; those that arrive before the
    // session is set up wait here. The queue is bounded.
    let chain: Promise<void> = Promise.resolve();
    let queuedFrames = 0;
    let queuedBytes = 0;
    const frameDeps = { ...deps, refused };
    ws.on('message', (data, isBinary) => {
      if (session.closed) return;
      framesIn.inc();
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (queuedFrames >= QUEUE_MAX_FRAMES || queuedBytes + buf.byteLength > QUEUE_MAX_BYTES) {
        session.close(CLOSE_CODES.policyViolation.code, 'too many frames waiting');
        return;
      }
      queuedFrames++;
      queuedBytes += buf.byteLength;
      // Binary frames are not part of the protocol: they fail JSON parsing like any junk.
      const text = isBinary ? '\u0000' : buf.toString('utf8');
      chain = chain
        .then(() => handleFrame(session, text, buf.byteLength, frameDeps))
        .catch((err) => slog.error({ err }, 'frame handler crashed'))
        .finally(() => {
          queuedFrames--;
          queuedBytes -= buf.byteLength;
        });
    });
    const expiry = setTimeout(
      () => session.close(CLOSE_CODES.tokenExpired.code, 'token expired'),
      Math.max(0, Math.min(claims.exp * 1000 - Date.now(), 2 ** 31 - 1)),
    );
    ws.on('close', () => {
      clearTimeout(expiry);
      session.closed = true;
      void hub.remove(session).catch((err) => slog.warn({ err }, 'unsubscribe failed'));
    });
    ws.on('error', (err) => slog.warn({ err }, 'socket error'));
    const setup = (async () => {
      // The user channel first: a room event published while the room list is
      // loading is then recorded, and applied over the (older) list below.
      await hub.add(session, []);
      const r = await deps.rooms.getJson<{ roomIds: string[] }>(
        `/internal/users/${encodeURIComponent(claims.userId)}/room-ids`,
      );
      const rooms = new Set(r?.roomIds ?? []);
      for (const [roomId, event] of session.roomEventsDuringSetup) {
        if (event === 'left') rooms.delete(roomId);
        else rooms.add(roomId);
      }
      await hub.joinRooms(session, [...rooms]);
      if (session.closed) return;
      session.ready = true;
      session.send({ type: 'ready', userId: claims.userId, sessionId: session.id });
    })();
    chain = setup.catch((err) => {
      slog.error({ err }, 'session setup failed');
      session.close(CLOSE_CODES.tryAgainLater.code, 'setup failed; reconnect');
    });
  }

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    hub,
    url: `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${port}`,
    async drain() {
      if (draining) return;
      draining = true;
      log.info({ sessions: hub.sessionCount }, 'draining');
      for (const s of hub.allSessions())
        s.close(CLOSE_CODES.goingAway.code, 'server restarting; reconnect');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, limits.DRAIN_TIMEOUT_MS);
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
        server.closeIdleConnections?.();
      });
      for (const c of wss.clients) c.terminate();
    },
  };
}
