/**
 * Registers a function's hono app with the Functions Framework, so each
 * function runs under `functions-framework --target=<name>` exactly as it
 * would in its Knative Service. The function file holds no server code.
 *
 * CloudEvent functions are registered through the HTTP signature too: that
 * lets one process answer `/healthz`, `/readyz` and `/metrics` and choose the
 * status of a refused event (4xx: dead-letter it; 5xx: retry it) — see
 * docs/decisions.md.
 */
import * as functions from '@google-cloud/functions-framework';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';

export function registerFunction(name: string, app: Hono): void {
  const listener = getRequestListener(app.fetch);
  functions.http(name, (req, res) => {
    void listener(req, res);
  });
}
