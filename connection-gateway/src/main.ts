/**
 * The gateway in the real mode: Kafka for commands, Redis for fan-out and
 * membership, the HTTP functions at their URLs. SIGTERM drains gracefully.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { createKafka, kafkaEventSink } from '@parley/eventing/kafka/kafka';
import {
  createLogger,
  createMetricsRegistry,
  createRedis,
  createTokenService,
  membershipWithFallback,
  recordColdStart,
  roomsMembershipLoader,
  serveMetrics,
  serviceClient,
} from '@parley/runtime';
import { RedisAttemptStore } from '@parley/runtime/attempts/attempt-store.redis';
import { RedisMembershipCache } from '@parley/runtime/membership/membership-cache.redis';
import { startTracing, stopTracing } from '@parley/runtime/tracing';
import { readGatewayConfig } from './config';
import { RedisPresenceStore } from './presence/presence-store.redis';
import { startGateway } from './server';

/**
 * The web client: `public/` beside the running module — in the bundle (dist/index.mjs, and so in
 * the image) the build copies webapp/dist there. Run from source (tsx src/main.ts) there is no
 * src/public/, so the repository's webapp/dist.
 */
function webClientRoot(): string {
  const beside = fileURLToPath(new URL('./public/', import.meta.url));
  if (existsSync(beside)) return beside;
  return join(fileURLToPath(import.meta.url), '..', '..', '..', 'webapp', 'dist');
}

let cfg: ReturnType<typeof readGatewayConfig>;
try {
  cfg = readGatewayConfig();
} catch (err) {
  createLogger('connection-gateway').fatal({ reason: (err as Error).message }, 'cannot start');
  process.exit(1);
}
// Before any client is made, so every span of this process has the provider.
startTracing('connection-gateway', cfg);
const log = createLogger('connection-gateway', cfg.LOG_LEVEL);

const registry = createMetricsRegistry('connection-gateway');
const redis = createRedis(cfg.REDIS_URL, 'gateway', { registry });
const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'connection-gateway', log });
const commands = kafkaEventSink(kafka);
await commands.connect();
const rooms = serviceClient(cfg.ROOMS_URL);
const membership = new RedisMembershipCache(redis);

const gateway = await startGateway(
  {
    tokens: createTokenService(cfg.JWT_SECRET),
    commands,
    fanout: new RedisFanout(redis),
    isMember: membershipWithFallback(membership, roomsMembershipLoader(rooms)),
    users: serviceClient(cfg.USERS_URL),
    rooms,
    messages: serviceClient(cfg.MESSAGES_URL),
    search: serviceClient(cfg.SEARCH_URL),
    notifications: serviceClient(cfg.NOTIFICATIONS_URL),
    // One id per process: a restarted pod is a new gateway, and the old one's users are swept.
    presence: new RedisPresenceStore(
      redis,
      `${hostname()}-${randomUUID().slice(0, 8)}`,
      cfg.PRESENCE_TTL_MS,
    ),
    log,
    registry,
    limits: cfg,
    allowedOrigins: cfg.ALLOWED_ORIGINS,
    // Login and sign-up throttles are shared by every gateway.
    attempts: new RedisAttemptStore(redis),
    ready: async () => commands.isConnected() && (await redis.ping()) === 'PONG',
    staticRoot: webClientRoot(),
  },
  { port: cfg.PORT, host: cfg.HOST },
);
// Listening with Kafka connected and its clients made: the gateway's cold start (cold-start.ts).
recordColdStart(registry);
log.info({ url: gateway.url }, 'connection gateway listening');
// /metrics on the private port only (the Service exposes PORT alone); it lives until the exit.
const metrics = await serveMetrics(registry, { port: cfg.METRICS_PORT, host: cfg.HOST });
if (metrics) log.info({ url: `${metrics.url}/metrics` }, 'metrics listening');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  await gateway.drain();
  await commands.close();
  redis.disconnect();
  await stopTracing();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
