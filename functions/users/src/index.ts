/** Entry point (Functions Framework target `users`): registers the function, nothing else. */
import { httpFunction } from '@parley/runtime/function-host';
import { usersFunction } from './function';

httpFunction(usersFunction);
