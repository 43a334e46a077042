/**
 * Configuration is read once at start into a typed, validated object. A bad
 * or missing value stops the process with one clear message naming the
 * variable, never later with an obscure failure.
 */
import { z } from 'zod';
import { ShardMap } from './sharding/shard-map';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * @example const cfg = loadConfig(z.object({ PORT: z.coerce.number().default(8080) }));
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.map(String).join('.') || '(env)'}: ${i.message}`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/*
 * Fragments every deployable's config schema is built from, so a variable
 * means the same thing and fails with the same message everywhere.
 */

/** `LOG_LEVEL`: pino's levels; info by default. */
export const LogLevelSchema = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');

/** `JWT_SECRET`: the HS256 key shared by users, the gateway and the HTTP functions. No default anywhere. */
export const JwtSecretSchema = z
  .string({ error: 'required: at least 32 random characters (there is no default)' })
  .min(32, 'must be at least 32 characters');

/** A base URL: another function (`ROOMS_URL`), a sink (`K_SINK`), Redis, Elasticsearch. */
export const UrlSchema = z.url();

/** A shard spec (`0-31=mysql://…/db0;32-63=mysql://…/db1`, or one URL for all shards). */
export const ShardSpecSchema = z
  .string({ error: 'required: a shard spec, from-to=mysql://user:pass@host:port/db;...' })
  .superRefine((spec, ctx) => {
    try {
      ShardMap.parse(spec);
    } catch (err) {
      const reason = (err as Error).message.replace(/\/\/[^@/\s]*@/g, '//***@'); // no passwords in logs
      ctx.addIssue({ code: 'custom', message: `bad shard spec: ${reason}` });
    }
  });
