/** users as a deployable: its name, config, real adapters and app (index.ts registers it). */
import { defineHttpFunction } from '@parley/runtime/function-host';
import { createUsersApp } from './app';
import { realUsers, UsersConfigSchema } from './deps.real';

export const usersFunction = defineHttpFunction({
  name: 'users',
  config: UsersConfigSchema,
  adapters: realUsers,
  app: createUsersApp,
});
