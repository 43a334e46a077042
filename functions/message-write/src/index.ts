/** Registers message-write with the Functions Framework (target `message-write`). */
import { cloudEventApp } from '@parley/eventing';
import { createLogger, createMetricsRegistry } from '@parley/runtime';
import { registerFunction } from '@parley/runtime/function-host';
import { realMessageWriteDeps } from './deps.real';
import { createMessageWrite } from './handler';

const log = createLogger('message-write');
const registry = createMetricsRegistry('message-write');
const { deps, ready } = realMessageWriteDeps(log, registry);
registerFunction(
  'message-write',
  cloudEventApp(createMessageWrite(deps), { log, registry, ready }),
);
