/** Entry point (Functions Framework target `room-ops`): registers the function, nothing else. */
import { cloudEventFunction } from '@parley/eventing';
import { roomOpsFunction } from './function';

cloudEventFunction(roomOpsFunction);
