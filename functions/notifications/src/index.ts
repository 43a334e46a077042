/** Entry point (Functions Framework target `notifications`): registers the function, nothing else. */
import { httpFunction } from '@parley/runtime/function-host';
import { notificationsFunction } from './function';

httpFunction(notificationsFunction);
