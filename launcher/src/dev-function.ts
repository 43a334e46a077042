/**
 * The edit-and-reload loop for one function: runs it from source under tsx,
 * exactly as its bundle would (the function's `src/index.ts`, then
 * `serveFunction`), with the environment it is given. What ships is the
 * bundle (`npm run build`, `node functions/<name>/dist/index.mjs`); this is
 * for development only.
 *   PORT=8101 USERS_DB_SHARDS=… JWT_SECRET=… npx tsx launcher/src/dev-function.ts users
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUNCTIONS } from '@parley/eventing';
import { serveFunction } from '@parley/runtime/serve-function';
import { REPO_ROOT } from './infra';

const name = process.argv[2];
const row = FUNCTIONS.find((d) => d.name === name);
if (!row) {
  console.error(`usage: dev-function <name>, one of: ${FUNCTIONS.map((d) => d.name).join(', ')}`);
  process.exit(2);
}
await import(pathToFileURL(join(REPO_ROOT, row.dir, 'src', 'index.ts')).href);
serveFunction(row.name);
