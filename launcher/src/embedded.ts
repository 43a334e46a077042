/**
 * The embedded mode (`npm start`): all of Parley in one process, no servers
 * to install. The gateway, every function invoked in-process, the memory bus
 * (ordered per key, at least once, dead letters — like Kafka) and in-memory
 * stores. Presence is the gateway's own memory (one gateway: no sweeps needed). For trying Parley and for development: nothing is durable (a
 * restart forgets everything) and nothing is distributed.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GatewayLimits, GatewayLimitsSchema } from '@parley/connection-gateway/config';
import { type Gateway, startGateway } from '@parley/connection-gateway/server';
import {
  CLOUDEVENT_FUNCTIONS,
  type CloudEventFunction,
  type CloudEventFunctionName,
  invokeCloudEventFunction,
  MemoryFanout,
  sourcesOf,
} from '@parley/eventing';
import { MemoryBus } from '@parley/eventing/memory-bus';
import { createMessageIndex } from '@parley/fn-message-index/handler';
import { createMessageWrite } from '@parley/fn-message-write/handler';
import { MemoryLiveMarks } from '@parley/fn-message-write/live-marks';
import { createMessagesApp } from '@parley/fn-messages/app';
import { createNotificationsApp } from '@parley/fn-notifications/app';
import { createNotify } from '@parley/fn-notify/handler';
import { httpLastSeqOf } from '@parley/fn-notify/room-seqs';
import { httpUserLookup } from '@parley/fn-notify/user-lookup';
import { createRoomOps } from '@parley/fn-room-ops/handler';
import { httpUserDirectory } from '@parley/fn-room-ops/user-directory';
import { createRoomsApp } from '@parley/fn-rooms/app';
import { createSearchApp } from '@parley/fn-search/app';
import { roomIdsFromRoomService } from '@parley/fn-search/room-ids';
import { createUsersApp } from '@parley/fn-users/app';
import { MemoryUserStore } from '@parley/fn-users/user-store.memory';
import { MemoryMessageStore } from '@parley/message-store/memory';
import { MemoryRecentCache } from '@parley/message-store/recent-cache/memory';
import { MemoryNotificationStore } from '@parley/notification-store/memory';
import { MemoryRoomStore } from '@parley/room-store/memory';
import {
  createLogger,
  createMetricsRegistry,
  createTokenService,
  MemoryMembershipCache,
  membershipWithFallback,
  roomsMembershipLoader,
  serviceClient,
} from '@parley/runtime';
import { MemorySearchIndex } from '@parley/search-index/memory';
import type { Hono } from 'hono';
import { Registry } from 'prom-client';

export interface EmbeddedOptions {
  port?: number;
  host?: string;
  allowedOrigins?: string[];
  logLevel?: string;
  /** Over the environment's gateway limits (tests raise the per-address ones: all is 127.0.0.1). */
  limits?: Partial<GatewayLimits>;
}

export interface Embedded {
  gateway: Gateway;
  bus: MemoryBus;
  /** The memory bus's stand-ins for the KafkaSources: which function, topic and consumer group. */
  triggers: { function: CloudEventFunctionName; topic: string; group: string }[];
  stop(): Promise<void>;
}

/** An in-process "service URL": requests go straight to the function's hono app. */
const inProcess = (name: string, app: Hono) =>
  serviceClient(`http://${name}.embedded`, async (req) => app.fetch(req));

export async function startEmbedded(opts: EmbeddedOptions = {}): Promise<Embedded> {
  const log = createLogger('parley-embedded', opts.logLevel);
  // No default secret: the embedded mode makes a fresh one per process (tokens end with the process)
  // unless JWT_SECRET is given.
  const tokens = createTokenService(
    process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
  );
  const bus = new MemoryBus({ log: log.child({ component: 'memory-bus' }) });
  const fanout = new MemoryFanout();
  const membership = new MemoryMembershipCache();
  // Each function gets its own registry, as in its own process; /metrics shows the gateway's.
  const fnRegistry = () => new Registry();

  const usersApp = createUsersApp({
    store: new MemoryUserStore(),
    tokens,
    log: log.child({ fn: 'users' }),
    registry: fnRegistry(),
  });
  const users = inProcess('users', usersApp);
  const roomStore = new MemoryRoomStore();
  const roomsApp = createRoomsApp({
    store: roomStore,
    tokens,
    log: log.child({ fn: 'rooms' }),
    registry: fnRegistry(),
  });
  const rooms = inProcess('rooms', roomsApp);
  const isMember = membershipWithFallback(membership, roomsMembershipLoader(rooms));
  const messageStore = new MemoryMessageStore();
  const recent = new MemoryRecentCache();
  const messagesApp = createMessagesApp({
    store: messageStore,
    recent,
    isMember,
    tokens,
    log: log.child({ fn: 'messages' }),
    registry: fnRegistry(),
  });

  const messages = inProcess('messages', messagesApp);
  const notificationStore = new MemoryNotificationStore();
  const notificationsApp = createNotificationsApp({
    store: notificationStore,
    tokens,
    log: log.child({ fn: 'notifications' }),
    registry: fnRegistry(),
  });
  const notify = createNotify({
    store: notificationStore,
    isMember,
    fanout,
    users: httpUserLookup(users),
    lastSeqOf: httpLastSeqOf(messages),
    log: log.child({ fn: 'notify' }),
  });

  const roomOps = createRoomOps({
    store: roomStore,
    membership,
    fanout,
    sink: bus,
    users: httpUserDirectory(users),
    log: log.child({ fn: 'room-ops' }),
  });
  const messageWrite = createMessageWrite({
    store: messageStore,
    recent,
    isMember,
    fanout,
    sink: bus,
    live: new MemoryLiveMarks(),
    log: log.child({ fn: 'message-write' }),
  });
  const searchIndex = new MemorySearchIndex();
  const searchApp = createSearchApp({
    index: searchIndex,
    roomIdsOf: roomIdsFromRoomService(rooms),
    tokens,
    log: log.child({ fn: 'search' }),
    registry: fnRegistry(),
  });
  const messageIndex = createMessageIndex({
    index: searchIndex,
    log: log.child({ fn: 'message-index' }),
  });
  // The in-memory equivalents of the KafkaSources: one subscription per trigger topic of every
  // CloudEvent function in the deployment table, on the same consumer group as its KafkaSource.
  const handlers: Record<CloudEventFunctionName, CloudEventFunction> = {
    'room-ops': roomOps,
    'message-write': messageWrite,
    'message-index': messageIndex,
    notify,
  };
  const triggers = CLOUDEVENT_FUNCTIONS.flatMap((d) =>
    sourcesOf(d).map((source) => ({
      function: d.name as CloudEventFunctionName,
      topic: source.topic,
      group: source.consumerGroup,
      delivery: d.trigger.delivery,
    })),
  );
  const subs = triggers.map((t) =>
    bus.subscribe({
      topic: t.topic,
      group: t.group,
      // The trigger's own retry policy, as its KafkaSource has (the table's `delivery`).
      ...(t.delivery
        ? {
            retry: t.delivery.retry,
            backoffPolicy: t.delivery.backoffPolicy,
            backoffDelayMs: t.delivery.backoffDelayMs,
            backoffMaxMs: t.delivery.backoffMaxMs,
          }
        : {}),
      handler: (e) => invokeCloudEventFunction(handlers[t.function], e, log),
    }),
  );

  const gateway = await startGateway(
    {
      tokens,
      commands: bus,
      fanout,
      isMember,
      users,
      rooms,
      messages,
      search: inProcess('search', searchApp),
      notifications: inProcess('notifications', notificationsApp),
      log: log.child({ component: 'gateway' }),
      registry: createMetricsRegistry('parley-embedded'),
      limits: { ...GatewayLimitsSchema.parse(process.env), ...opts.limits },
      allowedOrigins: opts.allowedOrigins ?? ['http://localhost:8080', 'http://127.0.0.1:8080'],
      staticRoot: join(fileURLToPath(import.meta.url), '..', '..', '..', 'webapp', 'dist'),
    },
    { port: opts.port ?? 8080, host: opts.host ?? '127.0.0.1' },
  );
  return {
    gateway,
    bus,
    triggers,
    async stop() {
      await gateway.drain();
      await Promise.all(subs.map((s) => s.close()));
      await bus.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  const origins = process.env.ALLOWED_ORIGINS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) ?? [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
  const embedded = await startEmbedded({ port, host, allowedOrigins: origins });
  console.log(
    `\nParley (embedded mode: in-memory, one process, nothing is kept after it stops)\n` +
      `  ${embedded.gateway.url.replace('127.0.0.1', 'localhost')}/      web client (once built)\n` +
      `  ${embedded.gateway.url}/api/v1   HTTP API v1\n` +
      `  ${embedded.gateway.url.replace(/^http/, 'ws')}/ws       WebSocket\n`,
  );
  const stop = async () => {
    await embedded.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
