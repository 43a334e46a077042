/**
 * Runs one function locally under the Functions Framework's own server (the
 * same Express wrapper `functions-framework --target` uses), bound to HOST
 * (127.0.0.1 by default). The stock CLI always listens on every interface,
 * which is right in a container and wrong on a shared machine.
 *
 * Usage: node --import tsx runtime/src/serve-function.ts <source.ts> <target>
 * Env: PORT (default 8080), HOST (default 127.0.0.1).
 */

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getTestServer } from '@google-cloud/functions-framework/testing';

const [source, target] = process.argv.slice(2);
if (!source || !target) {
  console.error('usage: serve-function <source.ts> <target>');
  process.exit(2);
}
await import(pathToFileURL(resolve(source)).href);
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const server = getTestServer(target);
server.listen(port, host, () => {
  console.log(
    JSON.stringify({
      level: 'info',
      service: target,
      msg: 'function listening',
      url: `http://${host}:${port}/`,
    }),
  );
});
const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
