/** Entry point (Functions Framework target `rooms`): registers the function, nothing else. */
import { httpFunction } from '@parley/runtime/function-host';
import { roomsFunction } from './function';

httpFunction(roomsFunction);
