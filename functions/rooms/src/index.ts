/** Registers rooms with the Functions Framework (`--target=rooms`). */
import { registerFunction } from '@parley/runtime/function-host';
import { createRoomsApp } from './app';
import { realRooms } from './deps.real';

registerFunction('rooms', createRoomsApp(realRooms().deps));
