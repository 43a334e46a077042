/** notify as a deployable: its name, config, real adapters and handler (index.ts registers it). */
import { defineCloudEventFunction } from '@parley/eventing';
import { NotifyConfigSchema, realNotify } from './deps.real';
import { createNotify } from './handler';

export const notifyFunction = defineCloudEventFunction({
  name: 'notify',
  config: NotifyConfigSchema,
  adapters: realNotify,
  handler: createNotify,
});
