/** Registers room-ops with the Functions Framework (`--target=room-ops`). */
import { cloudEventApp } from '@parley/eventing';
import { registerFunction } from '@parley/runtime/function-host';
import { realRoomOps } from './deps.real';
import { createRoomOps } from './handler';

const { deps, log, registry, ready } = realRoomOps();
registerFunction('room-ops', cloudEventApp(createRoomOps(deps), { log, registry, ready }));
