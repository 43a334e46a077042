/**
 * Serves one registered function under the Functions Framework's own server
 * (the Express wrapper `functions-framework --target` uses), bound to HOST.
 * The stock CLI always listens on every interface, which is right in a
 * container (HOST=0.0.0.0 there) and wrong on a shared machine (127.0.0.1,
 * the default here).
 *
 * A function's bundle (`dist/index.mjs`, see scripts/build.ts) is its
 * `src/index.ts`, which registers the target, followed by `serveFunction`.
 * SIGTERM/SIGINT: stop taking connections, let the ones in flight finish
 * (up to 5 s), run the function's `close`, exit 0.
 */
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { z } from 'zod';
import { loadConfig } from './config';
import { closeFunctions } from './function-host';

export const ListenConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
});

/** @example await import('./index'); serveFunction('users'); */
export function serveFunction(
  target: string,
  env: Record<string, string | undefined> = process.env,
): void {
  const { PORT, HOST } = loadConfig(ListenConfigSchema, env);
  const server = getTestServer(target);
  // Knative's queue-proxy keeps connections alive; never time a request out here (as the stock CLI).
  server.setTimeout(0);
  server.listen(PORT, HOST, () => {
    console.log(
      JSON.stringify({
        level: 'info',
        time: new Date().toISOString(),
        service: target,
        msg: 'function listening',
        url: `http://${HOST}:${PORT}/`,
      }),
    );
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      void closeFunctions().finally(() => process.exit(0));
    });
    server.closeIdleConnections?.();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
