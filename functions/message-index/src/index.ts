/** Entry point (Functions Framework target `message-index`): registers the function, nothing else. */
import { cloudEventFunction } from '@parley/eventing';
import { messageIndexFunction } from './function';

cloudEventFunction(messageIndexFunction);
