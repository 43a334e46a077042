/**
 * The real adapters of `users`, built from its validated config. Does not
 * run migrations: `migrate.ts` does, before deploys.
 */
import {
  createTokenService,
  JwtSecretSchema,
  ShardedMysql,
  ShardSpecSchema,
} from '@parley/runtime';
import type { Adapters, FunctionContext } from '@parley/runtime/function-host';
import { z } from 'zod';
import { DEFAULT_KDF_LIMITS, type UsersDeps } from './app';
import { MysqlUserStore } from './user-store.mysql';

export const UsersConfigSchema = z.object({
  USERS_DB_SHARDS: ShardSpecSchema,
  JWT_SECRET: JwtSecretSchema,
  /** Password hashes computed at once per process (about its cores). */
  KDF_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(DEFAULT_KDF_LIMITS.concurrency),
  /** Password hashes that may wait for a slot; past it, 503 with Retry-After. */
  KDF_QUEUE_MAX: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_KDF_LIMITS.queue),
});
export type UsersConfig = z.infer<typeof UsersConfigSchema>;

/** @example const { deps, ready, close } = realUsers(cfg, ctx); */
export function realUsers(
  cfg: UsersConfig,
  ctx: FunctionContext,
): Adapters<Pick<UsersDeps, 'store' | 'tokens' | 'kdf'>> {
  const db = ShardedMysql.fromSpec(cfg.USERS_DB_SHARDS, {
    metrics: { registry: ctx.registry, database: 'users' },
  });
  return {
    deps: {
      store: new MysqlUserStore(db),
      tokens: createTokenService(cfg.JWT_SECRET),
      kdf: { concurrency: cfg.KDF_CONCURRENCY, queue: cfg.KDF_QUEUE_MAX },
    },
    ready: () => db.ping(),
    close: () => db.close(),
  };
}
