/** notifications as a deployable: its name, config, real adapters and app (index.ts registers it). */
import { defineHttpFunction } from '@parley/runtime/function-host';
import { createNotificationsApp } from './app';
import { NotificationsConfigSchema, realNotifications } from './deps.real';

export const notificationsFunction = defineHttpFunction({
  name: 'notifications',
  config: NotificationsConfigSchema,
  adapters: realNotifications,
  app: createNotificationsApp,
});
