/** Registers messages with the Functions Framework (target `messages`). */
import { createLogger, createMetricsRegistry } from '@parley/runtime';
import { registerFunction } from '@parley/runtime/function-host';
import { createMessagesApp } from './app';
import { realMessagesDeps } from './deps.real';

const log = createLogger('messages');
const { deps } = realMessagesDeps(log, createMetricsRegistry('messages'));
registerFunction('messages', createMessagesApp(deps));
