/** Entry point (Functions Framework target `notify`): registers the function, nothing else. */
import { cloudEventFunction } from '@parley/eventing';
import { notifyFunction } from './function';

cloudEventFunction(notifyFunction);
