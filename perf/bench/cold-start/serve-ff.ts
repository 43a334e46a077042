/**
 * A function served the way it was until 2026-11-29 (docs/decisions.md D28):
 * under the Functions Framework. Its spec (`functions/<fn>/src/function.ts`)
 * is built with runtime's `hostFunction` exactly as `httpFunction` /
 * eventing's `cloudEventFunction` do, its hono app is registered with
 * `functions.http(name, …)` through @hono/node-server's `getRequestListener`
 * (the old `registerFunction`), and it is served by the FF's own Express
 * server (`getTestServer`, the old `serveFunction`): same listening line,
 * PORT/HOST and SIGTERM handling. Only `npm run bench:cold` uses it (the
 * `ff` variant and the FF side of the load), bundled per function.
 */
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { getRequestListener } from '@hono/node-server';
import { type CloudEventFunctionSpec, cloudEventApp } from '@parley/eventing';
import { closeFunctions, type HttpFunctionSpec, hostFunction } from '@parley/runtime/function-host';
import type { Hono } from 'hono';
import type { z } from 'zod';

type AnyHttpSpec = HttpFunctionSpec<z.ZodObject, object>;
type AnyCloudEventSpec = CloudEventFunctionSpec<z.ZodObject, object>;

/** The function spec a `functions/<fn>/src/function.ts` module exports (the export whose `name` is the function's). */
function specOf(mod: Record<string, unknown>, name: string): AnyHttpSpec | AnyCloudEventSpec {
  const spec = Object.values(mod).find(
    (v) => typeof v === 'object' && v !== null && (v as { name?: unknown }).name === name,
  );
  if (!spec) throw new Error(`no function spec named ${name} in its function.ts`);
  return spec as AnyHttpSpec | AnyCloudEventSpec;
}

/** The function's hono app, built as `httpFunction` / `cloudEventFunction` build it. */
function appOf(spec: AnyHttpSpec | AnyCloudEventSpec): Hono {
  const { ctx, adapters } = hostFunction(spec);
  if ('app' in spec) {
    return spec.app({
      ...adapters.deps,
      log: ctx.log,
      registry: ctx.registry,
      ready: adapters.ready,
    });
  }
  const fn = spec.handler({ ...adapters.deps, log: ctx.log });
  return cloudEventApp(fn, { log: ctx.log, registry: ctx.registry, ready: adapters.ready });
}

export function serveUnderFunctionsFramework(
  mod: Record<string, unknown>,
  name: string,
  env: Record<string, string | undefined> = process.env,
): void {
  const listener = getRequestListener(appOf(specOf(mod, name)).fetch);
  functions.http(name, (req, res) => {
    void listener(req, res);
  });
  const port = Number(env.PORT ?? 8080);
  const host = env.HOST ?? '127.0.0.1';
  const server = getTestServer(name);
  // Knative's queue-proxy keeps connections alive; never time a request out here (as the stock CLI).
  server.setTimeout(0);
  server.listen(port, host, () => {
    console.log(
      JSON.stringify({
        level: 'info',
        time: new Date().toISOString(),
        service: name,
        msg: 'function listening',
        url: `http://${host}:${port}/`,
        host: '@google-cloud/functions-framework',
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
