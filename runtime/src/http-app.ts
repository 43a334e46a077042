/**
 * The error handling every Parley hono app shares: a ParleyError becomes its
 * protocol status and body; anything else is a logged 500 `internal`; a path
 * without a route is a 404 `not_found`, or a 405 `method_not_allowed` when it
 * has routes for other methods (allowed-methods.ts).
 */
import type { Context, Hono } from 'hono';
import { Hono as HonoApp } from 'hono';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { notFoundOrNotAllowed } from './allowed-methods';
import { asParleyError, describeIssues, ParleyError } from './errors';
import { httpMetrics } from './http-metrics';
import type { Logger } from './logger';
import { mountProbes } from './ops';

/**
 * A function's app with Parley's error handling, the probes (`/healthz`, `/readyz`) and the RED
 * metrics of its routes (`httpMetrics`: first, so it sees every route's answer) in place.
 * Its `/metrics` is not here: `serveFunction` serves the registry on the private METRICS_PORT.
 * @example const app = functionApp(deps); app.get('/api/v1/rooms', requireAuth(tokens), …);
 */
export function functionApp(opts: {
  log: Logger;
  registry: Registry;
  ready?: () => Promise<boolean> | boolean;
}): Hono {
  const app = new HonoApp();
  app.use('*', httpMetrics(opts.registry));
  installErrorHandler(app, opts.log);
  mountProbes(app, opts.ready ? { ready: opts.ready } : {});
  return app;
}

export function installErrorHandler(app: Hono, log: Logger): void {
  app.onError((err, c) => {
    const e = asParleyError(err);
    if (e.code === 'internal') log.error({ err, path: c.req.path }, 'unhandled error');
    else if (e.code === 'unavailable')
      log.warn({ err, path: c.req.path }, 'dependency unavailable');
    return c.json(e.toBody(), e.status as 500);
  });
  app.notFound(notFoundOrNotAllowed(app));
}

/** Parses a JSON body with a schema; a clear 400 on anything else. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new ParleyError('bad_request', 'body must be JSON');
  }
  return parseWith(schema, raw);
}

/** Validates a value (query, params, frame) with a schema; ParleyError('bad_request') on failure. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ParleyError('bad_request', describeIssues(parsed.error.issues));
  return parsed.data;
}
