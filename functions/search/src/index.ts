/** Registers search with the Functions Framework (target `search`). */
import { createLogger, createMetricsRegistry } from '@parley/runtime';
import { registerFunction } from '@parley/runtime/function-host';
import { createSearchApp } from './app';
import { realSearchDeps } from './deps.real';

const log = createLogger('search');
const { deps } = realSearchDeps(log, createMetricsRegistry('search'));
registerFunction('search', createSearchApp(deps));
