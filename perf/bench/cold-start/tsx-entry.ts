/**
 * The tsx twin of a function bundle, for `npm run bench:cold`:
 *
 *   node --import tsx perf/bench/cold-start/tsx-entry.ts <function>
 *
 * does what the bundle's entry does (launcher/src/build.ts `functionEntry`):
 * imports `functions/<function>/src/index.ts` (which registers the target)
 * and serves it with runtime's `serveFunction` (@hono/node-server) — from the
 * TypeScript sources, transpiled on the fly, with node_modules beside them.
 */
import { serveFunction } from '@parley/runtime/serve-function';

const name = process.argv[2];
if (!name || !/^[a-z-]+$/.test(name)) {
  throw new Error('usage: node --import tsx perf/bench/cold-start/tsx-entry.ts <function>');
}
await import(`../../../functions/${name}/src/index.ts`);
serveFunction(name);
