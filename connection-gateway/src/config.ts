/**
 * The gateway's configuration, read once from the environment and validated.
 * JWT_SECRET has no default: the real mode refuses to start without it.
 */
import {
  JwtSecretSchema,
  LogLevelSchema,
  loadConfig,
  MetricsPortSchema,
  UrlSchema,
} from '@parley/runtime';
import { TracingConfigSchema } from '@parley/runtime/tracing';
import { z } from 'zod';

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

export const GatewayLimitsSchema = z.object({
  /** Frames per second a socket may send (token bucket refill). */
  RATE_FRAMES_PER_SEC: z.coerce.number().positive().default(20),
  /** Burst a socket may send at once. */
  RATE_BURST: z.coerce.number().int().positive().default(200),
  /** Refused frames in a row before the socket is closed (1008/1009). */
  ABUSE_STRIKES: z.coerce.number().int().positive().default(20),
  /** How long an HTTP command (create room, DM, invite, leave) waits for its result. */
  COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** How long graceful drain waits before closing what is left. */
  DRAIN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * Proxies in front of the gateway that each append to X-Forwarded-For; the
   * client address for per-address budgets is read that many entries from the
   * right. 0 (the default): the socket's peer address, X-Forwarded-For ignored.
   */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  // Per-user budgets, shared by all of a user's sockets on this gateway (src/budgets.ts).
  /** Frames per second one user may send over all their sockets, and the burst. */
  RATE_USER_FRAMES_PER_SEC: z.coerce.number().positive().default(60),
  RATE_USER_BURST: z.coerce.number().int().positive().default(400),
  /** `send` frames per second per user, and the burst (an outbox flushed after a reconnect). */
  RATE_SEND_PER_SEC: z.coerce.number().positive().default(10),
  RATE_SEND_BURST: z.coerce.number().int().positive().default(200),
  /** `sync` frames per second per user, and the burst. */
  RATE_SYNC_PER_SEC: z.coerce.number().positive().default(5),
  RATE_SYNC_BURST: z.coerce.number().int().positive().default(50),
  /** `typing` and `read` frames per second per user, and the burst (each is relayed to a room). */
  RATE_TYPING_READ_PER_SEC: z.coerce.number().positive().default(5),
  RATE_TYPING_READ_BURST: z.coerce.number().int().positive().default(50),
  /** Bytes per second of messages one user is sent by `sync` (and history), and the burst. */
  RATE_HISTORY_BYTES_PER_SEC: z.coerce.number().int().positive().default(1_048_576),
  RATE_HISTORY_BYTES_BURST: z.coerce.number().int().positive().default(4_194_304),
  /**
   * `rate_limited` refusals a socket may earn within a minute before it is closed (1008): enough
   * for an honest client flushing a full queue of frames, not for one that keeps hammering.
   */
  RATE_LIMITED_STRIKES: z.coerce.number().int().positive().default(300),
  // Connection caps.
  /** WebSockets one user may hold on this gateway; past it the handshake gets 429. */
  MAX_SOCKETS_PER_USER: z.coerce.number().int().positive().default(20),
  /** WebSockets one client address may hold (see TRUSTED_PROXY_HOPS); past it 429. */
  MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().positive().default(100),
  /** TCP connections (WebSockets and HTTP) the process serves; a few more are kept for /healthz. */
  MAX_CONNECTIONS: z.coerce.number().int().positive().default(10_000),
  /** The server pings every socket this often; one silent for two intervals is dropped. */
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  /** A connection must send its request headers within this (also an idle one that sends nothing). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** A whole HTTP request (headers and body) must arrive within this. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** A WebSocket handshake must be accepted or refused within this. */
  HANDSHAKE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  // HTTP API rate limits (token buckets on this gateway; http/api.ts). Health and metrics are exempt.
  /** Requests per second to /api/v1 from one client address (an IPv6 /64), and the burst. */
  RATE_HTTP_ADDRESS_PER_SEC: z.coerce.number().positive().default(20),
  RATE_HTTP_ADDRESS_BURST: z.coerce.number().int().positive().default(100),
  /** Requests per second one user may make to authenticated routes, and the burst. */
  RATE_HTTP_USER_PER_SEC: z.coerce.number().positive().default(10),
  RATE_HTTP_USER_BURST: z.coerce.number().int().positive().default(50),
  // Login and sign-up throttles (shared by every gateway through Redis; middleware/auth-throttle).
  /** Logins per (username, address) before each next one waits 1 s, 2 s, 4 s … (15 min at most). */
  LOGIN_FREE_FAILURES: z.coerce.number().int().positive().default(5),
  /** Failed logins per address, any usernames, within an hour before the same growing wait. */
  LOGIN_ADDRESS_FREE_FAILURES: z.coerce.number().int().positive().default(50),
  /** Failed logins per username within an hour past which addresses new to it are slowed. */
  LOGIN_USER_FAILURE_BUDGET: z.coerce.number().int().positive().default(20),
  /** Sign-ups per address, then one an hour. */
  SIGNUPS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().positive().default(10),
  /**
   * Presence: a gateway that has not beaten for this long is dead and its users go offline
   * (within this plus a sixth of it). Gateways beat every third of it.
   */
  PRESENCE_TTL_MS: z.coerce.number().int().min(300).default(30_000),
});
export type GatewayLimits = z.infer<typeof GatewayLimitsSchema>;

export const GatewayConfigSchema = GatewayLimitsSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** 127.0.0.1 locally; the Kubernetes manifest sets 0.0.0.0. */
  HOST: z.string().default('127.0.0.1'),
  /** The private port of /metrics (never behind the Service); unset: no metrics served. */
  METRICS_PORT: MetricsPortSchema,
  /** Origins allowed to open a WebSocket; requests without Origin (non-browsers) are allowed. */
  ALLOWED_ORIGINS: csv.default(['http://localhost:8080', 'http://127.0.0.1:8080']),
  LOG_LEVEL: LogLevelSchema,
  JWT_SECRET: JwtSecretSchema,
  REDIS_URL: UrlSchema,
  KAFKA_BROKERS: csv,
  USERS_URL: UrlSchema,
  ROOMS_URL: UrlSchema,
  MESSAGES_URL: UrlSchema,
  SEARCH_URL: UrlSchema,
  NOTIFICATIONS_URL: UrlSchema,
  ...TracingConfigSchema.shape,
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export const readGatewayConfig = (env = process.env): GatewayConfig =>
  loadConfig(GatewayConfigSchema, env);
