/**
 * The connection gateway: one port for the HTTP API (hono) and the
 * WebSockets (ws). Everything it knows about the rest of Parley comes in
 * through GatewayDeps, so the embedded and the real mode share this file.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type HttpBindings, serve } from '@hono/node-server';
import { CLOSE_CODES, LIMITS } from '@parley/protocol';
import {
  httpMetrics,
  installErrorHandler,
  mountProbes,
  ParleyError,
  type TokenClaims,
} from '@parley/runtime';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Counter, Gauge } from 'prom-client';
import { type WebSocket, WebSocketServer } from 'ws';
import { UserBudgets } from './budgets';
import { CommandWaiter } from './commands';
import type { GatewayDeps } from './deps';
import { createApi } from './http/api';
import { serveWebClient } from './http/static';
import {
  BEARER_PROTOCOL_PREFIX,
  PROTOCOL_NAME,
  tokenFromUpgrade,
  verifyUser,
} from './middleware/auth';
import { clientAddress } from './middleware/client-address';
import { KeyedBuckets } from './middleware/http-rate-limit';
import { originAllowed } from './middleware/origin';
import { addressKey } from './middleware/request-address';
import { MemoryPresenceStore } from './presence/presence-store.memory';
import { PresenceTracker } from './presence/presence-tracker';
import { readMarkersOf } from './reads';
import { ConnectionCaps } from './ws/connection-caps';
import { handleFrame } from './ws/frames';
import { Hub } from './ws/hub';
import { GatewayMetrics, type HandshakeRefusal } from './ws/metrics';
import { Session } from './ws/session';
import { WsSocket } from './ws/ws-socket';

export interface Gateway {
  server: Server;
  url: string;
  hub: Hub;
  /** The per-user budgets, also for the HTTP API's history (`takeBytes`). */
  budgets: UserBudgets;
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
/**
 * TCP connections taken past MAX_CONNECTIONS, so /healthz and /readyz still answer when the
 * gateway is full: such a connection is served the probes only (anything else: 503), with
 * `connection: close`, and is destroyed after RESERVE_LIFETIME_MS. Past these too, Node closes
 * new connections at once (server.maxConnections), so file descriptors never run out.
 */
export const RESERVE_CONNECTIONS = 16;
const RESERVE_LIFETIME_MS = 2_000;
const PROBE_PATHS = new Set(['/healthz', '/readyz']);
/** An idle keep-alive HTTP connection is closed after this (Node's default). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** A heartbeat-silent socket is dropped after this many intervals without a pong or a frame. */
const HEARTBEAT_MISSES = 2;
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** True when a client offers only `bearer.<token>` subprotocols: selecting one would echo the token. */
function offersOnlyBearer(header: string | undefined): boolean {
  const offered = (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return offered.length > 0 && offered.every((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
}

export async function startGateway(
  deps: GatewayDeps,
  opts: { port: number; host: string },
): Promise<Gateway> {
  const { log, registry, limits } = deps;
  let draining = false;
  const metrics = new GatewayMetrics(registry);
  const hub = new Hub(deps.fanout, log, {
    onRoomsChanged: (userId) => presence.roomsChanged(userId, hub.roomsOfUser(userId)),
    metrics,
  });
  hub.start();
  // `typing` frames relayed per (user, room): one token per LIMITS.typingThrottleMs, no burst.
  const typing = new KeyedBuckets(1000 / LIMITS.typingThrottleMs, 1);
  const presenceChanges = new Counter({
    name: 'parley_gateway_presence_changes_total',
    help: 'Users this gateway told the rooms about coming online or going offline',
    labelNames: ['online'],
    registers: [registry],
  });
  /** A user's rooms and member counts, from the rooms function (set-up, presence sweeps). */
  const roomsOf = async (userId: string) => {
    const r = await deps.rooms.getJson<{
      roomIds: string[];
      memberCounts?: Record<string, number>;
    }>(`/internal/users/${encodeURIComponent(userId)}/room-ids`);
    return { roomIds: r?.roomIds ?? [], memberCounts: r?.memberCounts ?? {} };
  };
  // Memory presence when none is given (the embedded mode: one gateway, nothing to share).
  const presenceStore =
    deps.presence ?? new MemoryPresenceStore(randomUUID(), limits.PRESENCE_TTL_MS);
  const presence = new PresenceTracker({
    store: presenceStore,
    fanout: deps.fanout,
    log,
    ttlMs: limits.PRESENCE_TTL_MS,
    roomsOf: async (userId) => {
      const { roomIds, memberCounts } = await roomsOf(userId);
      return new Map(roomIds.map((id) => [id, memberCounts[id] ?? Number.POSITIVE_INFINITY]));
    },
    onChange: (online) => presenceChanges.inc({ online: String(online) }),
  });
  await presence.start();
  const waiter = new CommandWaiter(deps.fanout, deps.commands, limits.COMMAND_TIMEOUT_MS);
  const budgets = new UserBudgets(limits);
  const caps = new ConnectionCaps(limits.MAX_SOCKETS_PER_USER, limits.MAX_SOCKETS_PER_ADDRESS);
  /** Open TCP connections, and those of them taken past MAX_CONNECTIONS (probes only). */
  let tcpOpen = 0;
  const reserved = new WeakSet<object>();

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
  const heartbeatDrops = new Counter({
    name: 'parley_gateway_heartbeat_drops_total',
    help: 'Sockets dropped for answering no heartbeat ping',
    registers: [registry],
  });

  const app = new Hono();
  installErrorHandler(app, log);
  // First: the API's RED metrics count every answer, the refusals below included.
  app.use('/api/v1/*', httpMetrics(registry));
  // A connection past MAX_CONNECTIONS is served the probes only.
  app.use('*', async (c, next) => {
    const socket = (c.env as HttpBindings | undefined)?.incoming?.socket;
    if (!socket || !reserved.has(socket)) return next();
    c.header('connection', 'close');
    if (PROBE_PATHS.has(c.req.path)) return next();
    return c.json(
      { error: { code: 'unavailable', message: 'the gateway is full; try again later' } },
      503,
    );
  });
  mountProbes(app, {
    // A full gateway is not ready: the load balancer sends new clients elsewhere.
    ready: async () =>
      !draining && tcpOpen <= limits.MAX_CONNECTIONS && (deps.ready ? await deps.ready() : true),
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
  app.route('/api/v1', createApi({ ...deps, presence: presenceStore }, waiter, { budgets }));
  if (deps.staticRoot) serveWebClient(app, deps.staticRoot);

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: HARD_MAX_PAYLOAD,
    // No compression: a room's frames are framed once and written as they are to every socket
    // (ws/out-frame.ts), which needs every ws write to be synchronous and uncompressed.
    perMessageDeflate: false,
    // `parley.v1` when offered; never a `bearer.<token>`, which would echo the token back
    // (a handshake that offers only those is refused before it gets here).
    handleProtocols: (protocols) =>
      protocols.has(PROTOCOL_NAME)
        ? PROTOCOL_NAME
        : ([...protocols].find((p) => !p.startsWith(BEARER_PROTOCOL_PREFIX)) ?? false),
  });

  const headersTimeout = limits.HTTP_HEADERS_TIMEOUT_MS;
  const server = serve({
    fetch: app.fetch,
    port: opts.port,
    hostname: opts.host,
    serverOptions: {
      // Counted from the connection's start: also an idle connection that never sends a request.
      headersTimeout,
      // Headers and body: a slow body holds its connection this long at most (Node's default: 300 s).
      requestTimeout: Math.max(limits.HTTP_REQUEST_TIMEOUT_MS, headersTimeout),
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // How often Node looks for connections past those timeouts.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
  }) as Server;
  server.maxConnections = limits.MAX_CONNECTIONS + RESERVE_CONNECTIONS;
  const onTcpClose = () => tcpOpen--;
  server.on('connection', (socket: Duplex) => {
    tcpOpen++;
    socket.once('close', onTcpClose);
    if (tcpOpen <= limits.MAX_CONNECTIONS) return;
    reserved.add(socket);
    const t = setTimeout(() => socket.destroy(), RESERVE_LIFETIME_MS);
    socket.once('close', () => clearTimeout(t));
  });
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', () => resolve());
    server.once('error', reject);
  });

  /** Refuses a handshake: `outcome` is the error code the client gets, `reason` why (metrics). */
  const reject = (
    socket: Duplex,
    status: number,
    code: string,
    message: string,
    reason: HandshakeRefusal,
  ) => {
    handshakes.inc({ outcome: code });
    metrics.handshakeRefused(reason);
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };

  /**
   * What a WebSocket's TCP connection holds until it closes: its address and user slots, and
   * the handshake's deadline until the handshake is settled. Kept here, released by one shared
   * close listener: a listener made inside the upgrade handler would keep that handler's whole
   * scope (the request, its headers, the head buffer) alive as long as the socket.
   */
  interface Slots {
    address: string;
    userId?: string;
    settled: boolean;
    deadline?: NodeJS.Timeout;
  }
  const slots = new WeakMap<Duplex, Slots>();
  function releaseSlots(this: Duplex) {
    const slot = slots.get(this);
    if (!slot) return;
    clearTimeout(slot.deadline);
    caps.releaseAddress(slot.address);
    if (slot.userId !== undefined) caps.releaseUser(slot.userId);
  }
  function destroySocket(this: Duplex) {
    this.destroy();
  }
  const handshakeTimedOut = (socket: Duplex) => {
    const slot = slots.get(socket);
    if (!slot || slot.settled) return;
    slot.settled = true;
    reject(socket, 503, 'unavailable', 'the handshake took too long; reconnect', 'timeout');
    setTimeout(() => socket.destroy(), 1_000).unref();
  };
  /** Marks the handshake settled; false when it was already (timed out). */
  const settle = (slot: Slots) => {
    if (slot.settled) return false;
    slot.settled = true;
    clearTimeout(slot.deadline);
    slot.deadline = undefined;
    return true;
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroySocket);
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/ws')
      return reject(socket, 404, 'not_found', 'no such endpoint', 'not_found');
    if (draining)
      return reject(socket, 503, 'unavailable', 'gateway is draining; reconnect', 'draining');
    if (reserved.has(socket))
      return reject(
        socket,
        503,
        'unavailable',
        'the gateway is full; reconnect with backoff',
        'full',
      );
    if (!originAllowed(req.headers.origin, deps.allowedOrigins)) {
      return reject(socket, 403, 'forbidden', 'origin not allowed', 'origin');
    }
    // A browser fails a handshake whose offered subprotocols got no answer, so selecting none
    // would not help: say why instead, before any work.
    if (offersOnlyBearer(req.headers['sec-websocket-protocol'])) {
      const offer = `["${PROTOCOL_NAME}", "bearer.<token>"]`;
      return reject(
        socket,
        400,
        'bad_request',
        `offer the subprotocols ${offer}: the server selects ${PROTOCOL_NAME} and never echoes a token`,
        'bearer_only',
      );
    }
    // Per address as the HTTP budgets count it: IPv4 as it is, IPv6 by its /64.
    const address = addressKey(
      clientAddress(
        req.socket.remoteAddress,
        req.headers['x-forwarded-for'],
        limits.TRUSTED_PROXY_HOPS,
      ),
    );
    if (!caps.takeAddress(address)) {
      const max = limits.MAX_SOCKETS_PER_ADDRESS;
      return reject(
        socket,
        429,
        'rate_limited',
        `at most ${max} WebSockets per client address`,
        'address_cap',
      );
    }
    // Accepted or refused within HANDSHAKE_TIMEOUT_MS, whatever the token check waits for.
    const slot: Slots = { address, settled: false };
    slot.deadline = setTimeout(handshakeTimedOut, limits.HANDSHAKE_TIMEOUT_MS, socket);
    slots.set(socket, slot);
    socket.once('close', releaseSlots);
    // A valid token of a user who exists (401 otherwise; 503 while the users function cannot say).
    verifyUser(deps, tokenFromUpgrade(url, req.headers['sec-websocket-protocol'])).then(
      (claims) => {
        if (!settle(slot)) return;
        if (!caps.takeUser(claims.userId)) {
          const max = limits.MAX_SOCKETS_PER_USER;
          return reject(
            socket,
            429,
            'rate_limited',
            `at most ${max} WebSockets per user; close one`,
            'user_cap',
          );
        }
        slot.userId = claims.userId;
        // The 101 waits in the socket until the session is set up (onConnection uncorks it), so
        // it and `ready` leave in one write: a system call less per handshake, and the client,
        // which waits for `ready` anyway, sees nothing else change.
        socket.cork();
        wss.handleUpgrade(req, socket, head, (ws) => void onConnection(ws, socket, claims));
      },
      (err) => {
        if (!settle(slot)) return;
        if (err instanceof ParleyError && err.code === 'unavailable') {
          return reject(socket, 503, 'unavailable', err.message, 'users_unavailable');
        }
        reject(
          socket,
          401,
          'unauthorized',
          err instanceof ParleyError ? err.message : 'invalid token',
          'unauthorized',
        );
      },
    );
  });

  // The heartbeat: every socket is pinged each interval. A socket that answers no ping and sends
  // no frame for HEARTBEAT_MISSES intervals is a dead peer: it is terminated, which removes it
  // from the hub and gives back its slots. Shared functions, no closure per socket.
  const live = new Map<WebSocket, Session>();
  const heartbeat = setInterval(() => {
    for (const [ws, session] of live) {
      try {
        if (session.silentBeats >= HEARTBEAT_MISSES) {
          heartbeatDrops.inc();
          sessionLog(session).info('no answer to the heartbeat; dropping the socket');
          ws.terminate();
          continue;
        }
        session.silentBeats++;
        ws.ping();
      } catch (err) {
        log.warn({ err }, 'heartbeat ping failed');
      }
    }
  }, limits.HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();
  function onPong(this: WebSocket) {
    const session = live.get(this);
    if (session) session.silentBeats = 0;
  }
  // A client breaking the WebSocket protocol (bad UTF-8, reserved bits, …): ws closes it with
  // the right code; one line without a stack, not a warning per bad client.
  function onSocketError(this: WebSocket, err: Error) {
    const session = live.get(this);
    (session ? sessionLog(session) : log).info(
      { reason: err.message, code: (err as { code?: string }).code },
      'socket error',
    );
  }
  /** A session's logger, made when it has something to say (most never do). */
  const sessionLog = (s: Session) => log.child({ sessionId: s.id, userId: s.userId });

  // Tokens expire in whole seconds: sessions wait in the bucket of their expiry second, and one
  // timer closes each second's (4001) — not a timer per socket, each of its own length.
  const expiring = new Map<number, Set<Session>>();
  let expiredUpTo = Math.floor(Date.now() / 1000);
  const expiry = setInterval(() => {
    const now = Math.floor(Date.now() / 1000);
    for (let second = expiredUpTo + 1; second <= now; second++) {
      const due = expiring.get(second);
      if (!due) continue;
      expiring.delete(second);
      for (const s of due) s.close(CLOSE_CODES.tokenExpired.code, 'token expired');
    }
    expiredUpTo = Math.max(expiredUpTo, now);
  }, 1_000);
  expiry.unref();
  const expiresAt = (s: Session) => Math.max(s.tokenExp, expiredUpTo + 1);

  // The same for every socket: one object, not a copy of the gateway's deps per socket.
  const frameDeps = {
    ...deps,
    refused,
    budgets,
    typing,
    markerOf: (userId: string, roomId: string) => hub.markerOf(userId, roomId),
    metrics,
  };
  const sessionLimits = {
    perSecond: limits.RATE_FRAMES_PER_SEC,
    burst: limits.RATE_BURST,
    strikes: limits.ABUSE_STRIKES,
    rateLimitedStrikes: limits.RATE_LIMITED_STRIKES,
  };

  async function onConnection(ws: WebSocket, tcp: Duplex, claims: TokenClaims): Promise<void> {
    if (draining) {
      ws.close(CLOSE_CODES.goingAway.code, 'server restarting; reconnect');
      tcp.uncork();
      return;
    }
    handshakes.inc({ outcome: 'ok' });
    const session = new Session(
      randomUUID(),
      claims.userId,
      claims.exp,
      new WsSocket(ws, tcp),
      sessionLimits,
      metrics,
    );
    // Frames are handled one at a time, in order; those that arrive before the
    // session is set up wait here. The queue is bounded.
    let chain: Promise<void> = Promise.resolve();
    let queuedFrames = 0;
    let queuedBytes = 0;
    live.set(ws, session);
    ws.on('pong', onPong);
    ws.on('error', onSocketError);
    ws.on('message', (data, isBinary) => {
      session.silentBeats = 0;
      if (session.closed) return;
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
        .catch((err) => sessionLog(session).error({ err }, 'frame handler crashed'))
        .finally(() => {
          queuedFrames--;
          queuedBytes -= buf.byteLength;
        });
    });
    const expires = expiresAt(session);
    let due = expiring.get(expires);
    if (!due) {
      due = new Set();
      expiring.set(expires, due);
    }
    due.add(session);
    /** Set once the session counts for the user's presence (when it is ready). */
    let present = false;
    ws.on('close', () => {
      live.delete(ws);
      const bucket = expiring.get(expires);
      if (bucket?.delete(session) && bucket.size === 0) expiring.delete(expires);
      session.closed = true;
      void hub
        .remove(session)
        .catch((err) => sessionLog(session).warn({ err }, 'unsubscribe failed'))
        .finally(() => {
          if (present) presence.closed(session.userId);
        });
    });
    const setup = (async () => {
      // The user channel first: a room event published while the room list is
      // loading is then recorded, and applied over the (older) list below.
      await hub.add(session, []);
      // The user's read markers, once per user on this gateway (later sockets share them): without
      // them this user gets no `unread` frames until a later connect (the room list still counts).
      const loadMarkers = hub.hasMarkers(claims.userId)
        ? undefined
        : readMarkersOf(deps.notifications, log, claims.userId);
      const [r, markers] = await Promise.all([roomsOf(claims.userId), loadMarkers]);
      if (markers) hub.mergeMarkers(claims.userId, markers);
      const rooms = new Set(r.roomIds);
      for (const [roomId, event] of session.roomEventsDuringSetup) {
        if (event === 'left') rooms.delete(roomId);
        else rooms.add(roomId);
      }
      await hub.joinRooms(session, [...rooms]);
      // After the join: a room's size is forgotten when its last session here leaves, so set
      // before, a leave in between would leave a followed room of unknown size.
      hub.setRoomSizes(r.memberCounts);
      if (session.closed) return;
      session.ready = true;
      session.send({ type: 'ready', userId: claims.userId, sessionId: session.id });
      present = true;
      presence.opened(claims.userId, hub.roomsOfUser(claims.userId));
    })();
    chain = setup
      .catch((err) => {
        sessionLog(session).error({ err }, 'session setup failed');
        session.close(CLOSE_CODES.tryAgainLater.code, 'setup failed; reconnect');
      })
      // The 101 (corked in the upgrade handler) goes now, with `ready` or the close frame.
      .finally(() => tcp.uncork());
  }

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    hub,
    budgets,
    url: `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${port}`,
    async drain() {
      if (draining) return;
      draining = true;
      clearInterval(heartbeat);
      clearInterval(expiry);
      // Stops beating: users who reconnect elsewhere within the TTL never flicker offline.
      presence.stop();
      hub.stop();
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
