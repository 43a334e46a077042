import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, installErrorHandler, mountProbes } from '@parley/runtime';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { serveWebClient } from './static';

/** The gateway's HTTP side as server.ts builds it: error handling, probes, the API, the client. */
function gatewayLikeApp(root: string): Hono {
  const app = new Hono();
  installErrorHandler(app, createLogger('static-test', 'silent'));
  mountProbes(app);
  app.get('/api/v1/rooms', (c) => c.json({ rooms: [] }));
  app.post('/api/v1/rooms', (c) => c.json({ room: {} }, 201));
  serveWebClient(app, root);
  return app;
}

describe('serveWebClient', () => {
  let app: Hono;
  beforeAll(() => {
    const root = mkdtempSync(join(tmpdir(), 'parley-static-'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Parley</title>');
    writeFileSync(join(root, 'app.js'), 'console.log(1)');
    writeFileSync(join(root, '.source-hash'), 'abc123\n');
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'assets', '.env'), 'SECRET=1');
    app = gatewayLikeApp(root);
  });

  it('serves the files and falls back to index.html for the client’s own routes', async () => {
    expect(await (await app.request('/')).text()).toContain('<title>Parley</title>');
    expect(await (await app.request('/app.js')).text()).toBe('console.log(1)');
    const route = await app.request('/rooms/r_1');
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>Parley</title>');
  });

  it.each(['/.source-hash', '/%2Esource-hash', '/assets/.env'])(
    'never serves a dotfile: %s is a JSON 404 (not the file, not index.html)',
    async (path) => {
      const res = await app.request(path);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    },
  );

  it('answers /metrics 404 on the serving port: it is served on METRICS_PORT only', async () => {
    const res = await app.request('/metrics');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('a wrong method on an API path is a 405; an unknown API path stays a 404 beside the fallback', async () => {
    const put = await app.request('/api/v1/rooms', { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect(await put.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    // The client's fallback is a GET route on `/*`; it does not make every path known.
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await app.request('/api/v1/nothing-here', { method });
      expect(res.status, method).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });
});
