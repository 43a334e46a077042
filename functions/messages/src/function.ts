/** messages as a deployable: its name, config, real adapters and app (index.ts registers it). */
import { defineHttpFunction } from '@parley/runtime/function-host';
import { createMessagesApp } from './app';
import { MessagesConfigSchema, realMessages } from './deps.real';

export const messagesFunction = defineHttpFunction({
  name: 'messages',
  config: MessagesConfigSchema,
  adapters: realMessages,
  app: createMessagesApp,
});
