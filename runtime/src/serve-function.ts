/**
 * Serves one registered function over HTTP with @hono/node-server, bound to
 * HOST (127.0.0.1 by default; the images set 0.0.0.0) on PORT (8080; Knative
 * sets it).
 *
 * A function's bundle (`dist/index.mjs`, see launcher/src/build.ts) is its
 * `src/index.ts`, which registers the function, followed by `serveFunction`.
 * SIGTERM/SIGINT: stop taking connections, let the ones in flight finish
 * (up to 5 s), run the function's `close`, exit 0.
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { z } from 'zod';
import { loadConfig } from './config';
import { closeFunctions, registeredFunction } from './function-host';

export const ListenConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
});

/**
 * Longer than the idle timeout of the proxy in front (Knative's queue-proxy, an ingress), so the
 * proxy, not this server, closes an idle keep-alive connection and never sends on a closed one.
 */
const KEEP_ALIVE_MS = 65_000;

/** @example await import('./index'); serveFunction('users'); */
export function serveFunction(
  target: string,
  env: Record<string, string | undefined> = process.env,
): Server {
  const { PORT, HOST } = loadConfig(ListenConfigSchema, env);
  const app = registeredFunction(target);
  const server = serve({ fetch: app.fetch, port: PORT, hostname: HOST }, (info) => {
    console.log(
      JSON.stringify({
        level: 'info',
        time: new Date().toISOString(),
        service: target,
        msg: 'function listening',
        url: `http://${HOST}:${info.port}/`,
      }),
    );
  }) as Server;
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      void closeFunctions().finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}
