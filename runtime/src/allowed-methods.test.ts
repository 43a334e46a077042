import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { allowedMethods } from './allowed-methods';
import { ParleyError } from './errors';
import { installErrorHandler } from './http-app';
import { createLogger } from './logger';

/** An app shaped like Parley's: middleware, params, a mounted sub-app, a wildcard fallback. */
function app(): Hono {
  const a = new Hono();
  installErrorHandler(a, createLogger('allowed-methods-test', 'silent'));
  a.use('*', async (_c, next) => next());
  a.get('/rooms', (c) => c.json({ rooms: [] }));
  a.post('/rooms', (c) => c.json({ room: {} }, 201));
  a.get('/rooms/:id', (c) => {
    if (c.req.param('id') === 'gone') throw new ParleyError('not_found', 'no such room');
    return c.json({ room: { id: c.req.param('id') } });
  });
  a.delete('/rooms/:id/members/me', (c) => c.body(null, 204));
  a.use('/only-middleware', async (_c, next) => next());
  const api = new Hono();
  api.post('/auth/login', (c) => c.json({ token: 't' }));
  a.route('/api/v1', api);
  // A fallback that answers some of the paths it matches (like the web client's).
  a.get('/*', async (c, next) => (c.req.path.startsWith('/app/') ? c.text('page') : next()));
  return a;
}

const send = (a: Hono, method: string, path: string) => a.request(path, { method });

describe('allowedMethods', () => {
  const a = app();
  it.each([
    ['/rooms', ['GET', 'HEAD', 'POST', 'OPTIONS']],
    ['/rooms/r_1', ['GET', 'HEAD', 'OPTIONS']],
    ['/rooms/r_1/members/me', ['DELETE', 'OPTIONS']],
    ['/api/v1/auth/login', ['POST', 'OPTIONS']],
  ])('%s takes %j', (path, methods) => {
    expect(allowedMethods(a, path)).toEqual(methods);
  });

  it.each(['/nope', '/only-middleware', '/app/anything', '/rooms/r_1/members'])(
    '%s has none: middleware and wildcard fallbacks make no path known',
    (path) => {
      expect(allowedMethods(a, path)).toEqual([]);
    },
  );
});

describe('installErrorHandler: 404, 405, OPTIONS', () => {
  const a = app();

  it.each([
    ['PUT', '/rooms', 'GET, HEAD, POST, OPTIONS'],
    ['DELETE', '/rooms/r_1', 'GET, HEAD, OPTIONS'],
    ['POST', '/rooms/r_1/members/me', 'DELETE, OPTIONS'],
    ['GET', '/api/v1/auth/login', 'POST, OPTIONS'],
    ['HEAD', '/api/v1/auth/login', 'POST, OPTIONS'],
  ])('%s %s is 405 method_not_allowed with Allow: %s', async (method, path, allow) => {
    const res = await send(a, method, path);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    if (method === 'HEAD') return; // no body
    expect(await res.json()).toEqual({
      error: {
        code: 'method_not_allowed',
        message: `${method} is not allowed on ${path}; allowed: ${allow}`,
      },
    });
  });

  it('OPTIONS on a known path answers 204 with Allow', async () => {
    const res = await send(a, 'OPTIONS', '/rooms');
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect(await res.text()).toBe('');
  });

  it.each([
    ['GET', '/nope'],
    ['PUT', '/nope'],
    ['OPTIONS', '/nope'],
    ['PUT', '/only-middleware'],
    ['PUT', '/app/anything'],
  ])('%s %s stays a 404 not_found, without Allow', async (method, path) => {
    const res = await send(a, method, path);
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: `no route ${method} ${path}` },
    });
  });

  it('leaves what the routes answer alone: a handler’s own 404, HEAD on a GET route', async () => {
    const gone = await send(a, 'GET', '/rooms/gone');
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: { code: 'not_found' } });
    const head = await send(a, 'HEAD', '/rooms/r_1');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await send(a, 'GET', '/app/x')).status).toBe(200);
  });
});
