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
  app.get('/*', serveStatic({ root: rel, path: 'index.html' }));
}
