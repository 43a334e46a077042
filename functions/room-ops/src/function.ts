/** room-ops as a deployable: its name, config, real adapters and handler (index.ts registers it). */
import { defineCloudEventFunction } from '@parley/eventing';
import { RoomOpsConfigSchema, realRoomOps } from './deps.real';
import { createRoomOps } from './handler';

export const roomOpsFunction = defineCloudEventFunction({
  name: 'room-ops',
  config: RoomOpsConfigSchema,
  adapters: realRoomOps,
  handler: createRoomOps,
});
