/** Entry point for functions-framework (`--target=users`): registers the app, nothing else. */
import { registerFunction } from '@parley/runtime/function-host';
import { createUsersApp } from './app';
import { realUsersDeps } from './deps.real';

registerFunction('users', createUsersApp(realUsersDeps()));
