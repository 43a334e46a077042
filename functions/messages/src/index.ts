/** Entry point (Functions Framework target `messages`): registers the function, nothing else. */
import { httpFunction } from '@parley/runtime/function-host';
import { messagesFunction } from './function';

httpFunction(messagesFunction);
