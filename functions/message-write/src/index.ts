/** Entry point (Functions Framework target `message-write`): registers the function, nothing else. */
import { cloudEventFunction } from '@parley/eventing';
import { messageWriteFunction } from './function';

cloudEventFunction(messageWriteFunction);
