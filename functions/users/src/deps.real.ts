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
import type { Adapters } from '@parley/runtime/function-host';
import { z } from 'zod';
import type { UsersDeps } from './app';
import { MysqlUserStore } from './user-store.mysql';

export const UsersConfigSchema = z.object({
  USERS_DB_SHARDS: ShardSpecSchema,
  JWT_SECRET: JwtSecretSchema,
});
export type UsersConfig = z.infer<typeof UsersConfigSchema>;

/** @example const { deps, ready, close } = realUsers(cfg); */
export function realUsers(cfg: UsersConfig): Adapters<Pick<UsersDeps, 'store' | 'tokens'>> {
  const db = ShardedMysql.fromSpec(cfg.USERS_DB_SHARDS);
  return {
    deps: { store: new MysqlUserStore(db), tokens: createTokenService(cfg.JWT_SECRET) },
    ready: () => db.ping(),
    close: () => db.close(),
  };
}
