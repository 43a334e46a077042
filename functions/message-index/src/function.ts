/** message-index as a deployable: its name, config, real adapters and handler (index.ts registers it). */
import { defineCloudEventFunction } from '@parley/eventing';
import { MessageIndexConfigSchema, realMessageIndex } from './deps.real';
import { createMessageIndex } from './handler';

export const messageIndexFunction = defineCloudEventFunction({
  name: 'message-index',
  config: MessageIndexConfigSchema,
  adapters: realMessageIndex,
  handler: createMessageIndex,
});
