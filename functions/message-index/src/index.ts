/** Registers message-index with the Functions Framework (target `message-index`). */
import { cloudEventApp } from '@parley/eventing';
import { createLogger, createMetricsRegistry } from '@parley/runtime';
import { registerFunction } from '@parley/runtime/function-host';
import { realMessageIndexDeps } from './deps.real';
import { createMessageIndex } from './handler';

const log = createLogger('message-index');
const registry = createMetricsRegistry('message-index');
const { deps, ready } = realMessageIndexDeps(log, registry);
registerFunction(
  'message-index',
  cloudEventApp(createMessageIndex(deps), { log, registry, ready }),
);
