/**
 * Serves the built web client (webapp/dist) at `/`, with the SPA fallback to
 * index.html. Absent until the web client is built. Dotfiles are never served
 * (webapp/dist/.source-hash is the build's stamp): they are a 404.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/** A path with a segment that starts with a dot (`/.source-hash`, `/a/.env`). */
const hidden = (path: string) => /(^|\/)\./.test(path);

export function serveWebClient(app: Hono, root: string): void {
  if (!existsSync(root)) return;
  const rel = relative(process.cwd(), root) || '.';
  const files = serveStatic({ root: rel });
  app.use('/*', (c, next) => (hidden(c.req.path) ? next() : files(c, next)));
  // The client's own routes fall back to index.html; API, WebSocket and ops paths never do,
  // so an unknown API route stays a JSON 404.
  app.get('/*', async (c, next) => {
    const p = c.req.path;
    if (
      p.startsWith('/api/') ||
      ['/ws', '/metrics', '/healthz', '/readyz'].includes(p) ||
      hidden(p)
    )
      return next();
    return serveStatic({ root: rel, path: 'index.html' })(c, next);
  });
}
