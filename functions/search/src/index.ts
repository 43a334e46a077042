/** Entry point (Functions Framework target `search`): registers the function, nothing else. */
import { httpFunction } from '@parley/runtime/function-host';
import { searchFunction } from './function';

httpFunction(searchFunction);
