/**
 * Serves the built web client (webapp/dist) at `/`, with the SPA fallback to
 * index.html. Absent until the web client is built.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

export function serveWebClient(app: Hono, root: string): void {
  if (!existsSync(root)) return;
  const rel = relative(process.cwd(), root) || '.';
  app.use('/*', serveStatic({ root: rel }));
  // The client's own routes fall back to index.html; API, WebSocket and ops paths never do,
  // so an unknown API route stays a JSON 404.
  app.get('/*', async (c, next) => {
    const p = c.req.path;
    if (p.startsWith('/api/') || ['/ws', '/metrics', '/healthz', '/readyz'].includes(p))
      return next();
    return serveStatic({ root: rel, path: 'index.html' })(c, next);
  });
}
