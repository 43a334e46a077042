/**
 * The ops endpoints every Parley process serves: `/healthz` (the process
 * runs), `/readyz` (its dependencies answer; false while draining) and
 * `/metrics` (Prometheus text format).
 */
import type { Hono } from 'hono';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface OpsOptions {
  registry: Registry;
  /** Resolves true when the process can take traffic. */
  ready?: () => Promise<boolean> | boolean;
}

/** A registry with the process's default metrics, labelled with the service. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * @example mountOps(app, { registry, ready: () => db.ping() });
 */
export function mountOps(app: Hono, opts: OpsOptions): void {
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    let ready = false;
    try {
      ready = opts.ready ? await opts.ready() : true;
    } catch {
      ready = false;
    }
    return c.json({ ready }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.text(await opts.registry.metrics(), 200, { 'content-type': opts.registry.contentType }),
  );
}
