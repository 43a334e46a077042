import { seriesValue } from '@parley/tests/support/metrics';
import { Hono, type MiddlewareHandler } from 'hono';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ParleyError } from './errors';
import { functionApp } from './http-app';
import { httpMetrics } from './http-metrics';
import { createLogger } from './logger';

/** How many requests of a route and method the duration histogram observed. */
const durations = (registry: Registry, route: string, method: string) =>
  seriesValue(
    registry,
    'parley_http_request_duration_seconds',
    { route, method },
    'parley_http_request_duration_seconds_count',
  );

const requests = (registry: Registry, route: string, method: string, code: string) =>
  seriesValue(registry, 'parley_http_requests_total', { route, method, code });

/** A function's app as the functions make theirs, with routes that answer 200, 404 (own), 401 and 500. */
function app(registry: Registry) {
  const a = functionApp({ log: createLogger('test', 'silent'), registry });
  const denyAll: MiddlewareHandler = async () => {
    throw new ParleyError('unauthorized', 'no token');
  };
  a.get('/api/v1/rooms/:id', (c) => {
    if (c.req.param('id') === 'missing') throw new ParleyError('not_found', 'no such room');
    return c.json({ id: c.req.param('id') });
  });
  a.post('/api/v1/rooms', (c) => c.json({}, 201));
  a.get('/api/v1/private', denyAll, (c) => c.json({}));
  a.get('/api/v1/boom', () => {
    throw new Error('bug');
  });
  return a;
}

describe('httpMetrics', () => {
  it('counts requests by route pattern (never the raw path), method and status', async () => {
    const registry = new Registry();
    const a = app(registry);
    await a.request('/api/v1/rooms/r_1');
    await a.request('/api/v1/rooms/r_2');
    await a.request('/api/v1/rooms/missing');
    await a.request('/api/v1/rooms', { method: 'POST' });
    expect(await requests(registry, '/api/v1/rooms/:id', 'GET', '200')).toBe(2);
    expect(await requests(registry, '/api/v1/rooms/:id', 'GET', '404')).toBe(1);
    expect(await requests(registry, '/api/v1/rooms', 'POST', '201')).toBe(1);
    expect(await durations(registry, '/api/v1/rooms/:id', 'GET')).toBe(3);
    const text = await registry.metrics();
    expect(text).not.toContain('r_1');
    expect(text).not.toContain('missing');
  });

  it('counts a thrown error as its status (500 for a bug), under the route that threw', async () => {
    const registry = new Registry();
    const a = app(registry);
    expect((await a.request('/api/v1/boom')).status).toBe(500);
    expect(await requests(registry, '/api/v1/boom', 'GET', '500')).toBe(1);
  });

  it('counts a request a middleware refused under the route it was for', async () => {
    const registry = new Registry();
    const a = app(registry);
    expect((await a.request('/api/v1/private')).status).toBe(401);
    expect(await requests(registry, '/api/v1/private', 'GET', '401')).toBe(1);
  });

  it('counts paths no route takes as route="unmatched" (404, and 405 on a path of other methods)', async () => {
    const registry = new Registry();
    const a = app(registry);
    expect((await a.request('/nothing/here/1')).status).toBe(404);
    expect((await a.request('/nothing/here/2')).status).toBe(404);
    expect((await a.request('/api/v1/rooms', { method: 'DELETE' })).status).toBe(405);
    expect(await requests(registry, 'unmatched', 'GET', '404')).toBe(2);
    expect(await requests(registry, 'unmatched', 'DELETE', '405')).toBe(1);
    expect(await registry.metrics()).not.toContain('/nothing');
  });

  it('does not count the probes nor /metrics', async () => {
    const registry = new Registry();
    const a = app(registry);
    a.get('/metrics', (c) => c.text(''));
    for (const path of ['/healthz', '/readyz', '/metrics'])
      expect((await a.request(path)).status).toBe(200);
    const counted = await registry.getSingleMetric('parley_http_requests_total')?.get();
    expect(counted?.values).toEqual([]);
  });

  it('shares its metrics between apps on one registry, and names a sub-app’s routes in full', async () => {
    const registry = new Registry();
    const api = new Hono();
    api.use('*', httpMetrics(registry));
    api.get('/rooms/:id', (c) => c.json({}));
    const root = new Hono();
    root.route('/api/v1', api);
    // A second app on the same registry (two apps under test in one process): no "already registered".
    const other = app(registry);
    await root.request('/api/v1/rooms/r_1');
    await other.request('/api/v1/rooms/r_1');
    expect(await requests(registry, '/api/v1/rooms/:id', 'GET', '200')).toBe(2);
  });
});
