/**
 * What an HTTP API answers for a request its routes do not take: `404 not_found` for a path it
 * does not know, `405 method_not_allowed` with an `Allow` header (RFC 9110 §15.5.6) for a path it
 * knows under other methods, and `204` with the same `Allow` for `OPTIONS` on such a path.
 *
 * Hono answers 404 to both. The app's own router tells which methods a path has: this asks it,
 * from the not-found handler, so nothing runs on a request a route answers. Two kinds of route do
 * not make a path known: middleware (`app.use`, method ALL) and wildcard routes (`/*`: fallbacks
 * such as the web client's, which answer only some of the paths they match). hono's own
 * `hono/method-not-allowed` middleware counts those, so it would answer an unknown API path with
 * 405 once the web client is served; hence this. HEAD is allowed wherever GET is (hono answers a
 * HEAD with the GET route, without the body).
 */
import type { Context, Hono } from 'hono';
import { METHODS } from 'hono/router';
import { ParleyError } from './errors';

/** In the order `Allow` lists them. */
const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'QUERY', 'OPTIONS'];
const PROBED = METHODS.map((m) => m.toUpperCase());

type RouterRoute = { method: string; path: string };

/**
 * The methods a path is routed for in `app`, HEAD and OPTIONS included; empty if it has none.
 * Call it once the routes are in place (the first match freezes hono's router).
 * @example allowedMethods(app, '/api/v1/rooms') // ['GET', 'HEAD', 'POST', 'OPTIONS']
 */
export function allowedMethods(app: Hono, path: string): string[] {
  const found = new Set<string>();
  for (const method of PROBED) {
    const [matched] = app.router.match(method, path) as unknown as [[[unknown, RouterRoute]][]];
    if (matched.some(([[, r]]) => r.method === method && !r.path.endsWith('*'))) found.add(method);
  }
  if (found.size === 0) return [];
  if (found.has('GET')) found.add('HEAD');
  found.add('OPTIONS');
  return ORDER.filter((m) => found.has(m));
}

/**
 * A not-found handler: 404 `not_found`, or 405 `method_not_allowed` / the OPTIONS answer when the
 * path has other methods. `installErrorHandler` installs it on every Parley app.
 */
export function notFoundOrNotAllowed(app: Hono): (c: Context) => Response {
  return (c) => {
    const { method, path } = c.req;
    const allow = allowedMethods(app, path);
    if (allow.length === 0)
      return c.json(new ParleyError('not_found', `no route ${method} ${path}`).toBody(), 404);
    const header = { allow: allow.join(', ') };
    if (method === 'OPTIONS') return c.body(null, 204, header);
    const e = new ParleyError(
      'method_not_allowed',
      `${method} is not allowed on ${path}; allowed: ${header.allow}`,
    );
    return c.json(e.toBody(), 405, header);
  };
}
