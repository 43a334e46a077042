/**
 * RED metrics of an HTTP API, per route: how many requests each route answered with each status,
 * and how long they took (docs/operations.md, "Metrics"). The `route` label is the hono route
 * PATTERN (`/api/v1/rooms/:id`), never the raw path, so the series stay as few as the routes; a
 * request no route takes (404, 405) is `route="unmatched"`. The probes and `/metrics` are not
 * counted: they are the platform's traffic, not the users', and would drown a quiet function's rate.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Histogram, type Registry } from 'prom-client';
import { metricOnce } from './metric-once';

/** The `route` of a request no route of the app takes. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Requests not counted: the kubelet's and Knative's probes, and Prometheus's scrapes. */
const SKIPPED = new Set(['/healthz', '/readyz', '/metrics']);

export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** `app.use` middleware is registered for every method; a route is registered for one. */
const METHOD_ALL = 'ALL';

/**
 * The pattern of the route that answers the request (or would have: a middleware such as the
 * auth check may answer first), or UNMATCHED_ROUTE when only middleware matched.
 */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  const at = routes[c.req.routeIndex];
  if (at && at.method !== METHOD_ALL) return at.path;
  return routes.find((r) => r.method !== METHOD_ALL)?.path ?? UNMATCHED_ROUTE;
}

/**
 * Counts and times every request that passes through it, by route pattern, method and status.
 * Use it first on the app (before the routes), so it sees every route's answer; a registry can
 * take it more than once (the metrics are shared, not registered twice).
 * @example app.use('*', httpMetrics(registry));
 */
export function httpMetrics(registry: Registry): MiddlewareHandler {
  const requests = metricOnce(
    registry,
    'parley_http_requests_total',
    () =>
      new Counter({
        name: 'parley_http_requests_total',
        help: 'HTTP requests answered, by route pattern, method and status code',
        labelNames: ['route', 'method', 'code'] as const,
        registers: [registry],
      }),
  );
  const duration = metricOnce(
    registry,
    'parley_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'parley_http_request_duration_seconds',
        help: 'Time to answer an HTTP request (until the handler returned its response), by route pattern and method',
        labelNames: ['route', 'method'] as const,
        buckets: HTTP_DURATION_BUCKETS,
        registers: [registry],
      }),
  );
  return async (c, next) => {
    if (SKIPPED.has(c.req.path)) return next();
    const started = performance.now();
    let code: number | undefined;
    try {
      await next();
      code = c.res.status;
    } finally {
      // A throw that got past the app's error handler (none installed) is answered 500 by hono.
      const route = routeOf(c);
      const method = c.req.method;
      requests.inc({ route, method, code: String(code ?? 500) });
      duration.observe({ route, method }, (performance.now() - started) / 1000);
    }
  };
}
