/** notifications in the real mode: the notification DB's MySQL shards (read only) and the token key, from its config. */
import { MysqlNotificationStore } from '@parley/notification-store/mysql';
import {
  createTokenService,
  JwtSecretSchema,
  ShardedMysql,
  ShardSpecSchema,
} from '@parley/runtime';
import type { Adapters, FunctionContext } from '@parley/runtime/function-host';
import { z } from 'zod';
import type { NotificationsDeps } from './app';

export const NotificationsConfigSchema = z.object({
  /** The notification DB's shard map, the same as notify's (this function only reads it). */
  NOTIFY_DB_SHARDS: ShardSpecSchema,
  JWT_SECRET: JwtSecretSchema,
});
export type NotificationsConfig = z.infer<typeof NotificationsConfigSchema>;

/** @example const { deps, ready, close } = realNotifications(cfg, ctx); */
export function realNotifications(
  cfg: NotificationsConfig,
  ctx: FunctionContext,
): Adapters<Pick<NotificationsDeps, 'store' | 'tokens'>> {
  const db = ShardedMysql.fromSpec(cfg.NOTIFY_DB_SHARDS, {
    metrics: { registry: ctx.registry, database: 'notify' },
  });
  return {
    deps: { store: new MysqlNotificationStore(db), tokens: createTokenService(cfg.JWT_SECRET) },
    ready: () => db.ping(),
    close: () => db.close(),
  };
}
