/**
 * Serves one registered function over HTTP with @hono/node-server, bound to
 * HOST (127.0.0.1 by default; the images set 0.0.0.0) on PORT (8080; Knative
 * sets it), and its metrics registry on the private METRICS_PORT (if set: the
 * manifests set 9464; see ops.ts).
 *
 * A function's bundle (`dist/index.mjs`, see launcher/src/build.ts) is its
 * `src/index.ts`, which registers the function, followed by `serveFunction`.
 * SIGTERM/SIGINT: stop taking connections, let the ones in flight finish
 * (up to 5 s), run the function's `close`, exit 0.
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { z } from 'zod';
import { recordColdStart } from './cold-start';
import { loadConfig } from './config';
import { closeFunctions, functionRegistry, registeredFunction } from './function-host';
import { MetricsPortSchema, type MetricsServer, serveMetrics } from './ops';

export const ListenConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: MetricsPortSchema,
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
  const { PORT, HOST, METRICS_PORT } = loadConfig(ListenConfigSchema, env);
  const app = registeredFunction(target);
  const say = (level: 'info' | 'fatal', msg: string, fields: Record<string, unknown>) =>
    console.log(
      JSON.stringify({ level, time: new Date().toISOString(), service: target, msg, ...fields }),
    );
  const registry = functionRegistry(target);
  const server = serve({ fetch: app.fetch, port: PORT, hostname: HOST }, (info) => {
    // Adapters were built when the function's module registered it: this is the cold start's end.
    if (registry) recordColdStart(registry);
    say('info', 'function listening', { url: `http://${HOST}:${info.port}/` });
  }) as Server;
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  // The metrics server lives as long as the function's: scrapeable while it drains, closed with it.
  if (registry && METRICS_PORT !== undefined) {
    let metrics: MetricsServer | undefined;
    let closed = false;
    server.once('close', () => {
      closed = true;
      void metrics?.close();
    });
    serveMetrics(registry, { port: METRICS_PORT, host: HOST }).then(
      (m) => {
        metrics = m;
        if (closed) void m?.close();
        else say('info', 'metrics listening', { url: `${m?.url}/metrics` });
      },
      (err: Error) => {
        // A port the pod cannot bind is a deployment error: stop with one line, as for bad config.
        say('fatal', 'cannot start', { reason: err.message });
        process.exit(1);
      },
    );
  }
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
