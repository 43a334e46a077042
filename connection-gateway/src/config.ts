/**
 * The gateway's configuration, read once from the environment and validated.
 * JWT_SECRET has no default: the real mode refuses to start without it.
 */
import { JwtSecretSchema, LogLevelSchema, loadConfig, UrlSchema } from '@parley/runtime';
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
});
export type GatewayLimits = z.infer<typeof GatewayLimitsSchema>;

export const GatewayConfigSchema = GatewayLimitsSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** 127.0.0.1 locally; the Kubernetes manifest sets 0.0.0.0. */
  HOST: z.string().default('127.0.0.1'),
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
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export const readGatewayConfig = (env = process.env): GatewayConfig =>
  loadConfig(GatewayConfigSchema, env);
