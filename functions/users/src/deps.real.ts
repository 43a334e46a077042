/**
 * The real-mode dependencies of `users`, built from the environment (read
 * once, validated; a bad or missing value stops the process with one clear
 * message). Does not run migrations: `migrate.ts` does, before deploys.
 */
import {
  createLogger,
  createMetricsRegistry,
  createTokenService,
  loadConfig,
  ShardedMysql,
  ShardMap,
} from '@parley/runtime';
import { z } from 'zod';
import type { UsersDeps } from './app';
import { MysqlUserStore } from './user-store.mysql';

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

export const UsersConfigSchema = z.object({
  USERS_DB_SHARDS: ShardSpecSchema,
  JWT_SECRET: z
    .string({ error: 'required: at least 32 random characters (there is no default)' })
    .min(32, 'must be at least 32 characters'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type UsersConfig = z.infer<typeof UsersConfigSchema>;

/** @example registerFunction('users', createUsersApp(realUsersDeps())); */
export function realUsersDeps(cfg: UsersConfig = loadConfig(UsersConfigSchema)): UsersDeps {
  const db = ShardedMysql.fromSpec(cfg.USERS_DB_SHARDS);
  return {
    store: new MysqlUserStore(db),
    tokens: createTokenService(cfg.JWT_SECRET),
    log: createLogger('users', cfg.LOG_LEVEL),
    registry: createMetricsRegistry('users'),
    ready: () => db.ping(),
  };
}
