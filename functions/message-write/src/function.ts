/** message-write as a deployable: its name, config, real adapters and handler (index.ts registers it). */
import { defineCloudEventFunction } from '@parley/eventing';
import { MessageWriteConfigSchema, realMessageWrite } from './deps.real';
import { createMessageWrite } from './handler';

export const messageWriteFunction = defineCloudEventFunction({
  name: 'message-write',
  config: MessageWriteConfigSchema,
  adapters: realMessageWrite,
  handler: createMessageWrite,
});
