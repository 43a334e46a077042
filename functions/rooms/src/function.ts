/** rooms as a deployable: its name, config, real adapters and app (index.ts registers it). */
import { defineHttpFunction } from '@parley/runtime/function-host';
import { createRoomsApp } from './app';
import { RoomsConfigSchema, realRooms } from './deps.real';

export const roomsFunction = defineHttpFunction({
  name: 'rooms',
  config: RoomsConfigSchema,
  adapters: realRooms,
  app: createRoomsApp,
});
