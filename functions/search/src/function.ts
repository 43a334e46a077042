/** search as a deployable: its name, config, real adapters and app (index.ts registers it). */
import { defineHttpFunction } from '@parley/runtime/function-host';
import { createSearchApp } from './app';
import { realSearch, SearchConfigSchema } from './deps.real';

export const searchFunction = defineHttpFunction({
  name: 'search',
  config: SearchConfigSchema,
  adapters: realSearch,
  app: createSearchApp,
});
