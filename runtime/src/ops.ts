/**
 * The ops endpoints of every Parley process, on two ports:
 * - the serving port (PORT), beside the API: `/healthz` (the process runs) and `/readyz` (its
 *   dependencies answer; false while draining), for the kubelet's and Knative's probes
 *   (`mountProbes`);
 * - the private metrics port (METRICS_PORT): `/metrics` (Prometheus text format), which no
 *   Service, Knative route or ingress reaches; Prometheus scrapes it on the pod's address
 *   (`serveMetrics`; docs/operations.md). Unset, the process serves no metrics.
 * `mountOps` puts all three on one app, for the local stand-ins (KafkaSource, KafkaSink), which
 * have no public side.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { z } from 'zod';

export interface ProbeOptions {
  /** Resolves true when the process can take traffic. */
  ready?: () => Promise<boolean> | boolean;
}

export interface OpsOptions extends ProbeOptions {
  registry: Registry;
}

/** `METRICS_PORT`: the private port of `/metrics`; unset, no metrics are served (0: any free port). */
export const MetricsPortSchema = z.coerce.number().int().min(0).max(65_535).optional();

/** A registry with the process's default metrics, labelled with the service. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `/healthz` and `/readyz`: what the probes ask on the serving port.
 * @example mountProbes(app, { ready: () => db.ping() });
 */
export function mountProbes(app: Hono, opts: ProbeOptions = {}): void {
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
}

/** `/metrics`: the registry in Prometheus text format. */
export function mountMetrics(app: Hono, registry: Registry): void {
  app.get('/metrics', async (c) =>
    c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
}

/**
 * Probes and metrics on one app: only for a process without a public port (the local stand-ins).
 * A deployable mounts the probes and serves its metrics with `serveMetrics`.
 * @example mountOps(app, { registry, ready: () => source.isReady() });
 */
export function mountOps(app: Hono, opts: OpsOptions): void {
  mountProbes(app, opts);
  mountMetrics(app, opts.registry);
}

export interface MetricsServer {
  server: Server;
  /** `http://host:port`, the port the server got. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (and nothing else) on the private port, when there is one. Resolves once it
 * listens; rejects if the port cannot be bound.
 * @example await serveMetrics(registry, { port: cfg.METRICS_PORT, host: cfg.HOST });
 */
export async function serveMetrics(
  registry: Registry,
  opts: { port: number | undefined; host: string },
): Promise<MetricsServer | undefined> {
  if (opts.port === undefined) return undefined;
  const app = new Hono();
  mountMetrics(app, registry);
  const server = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }) as Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`cannot serve metrics on ${opts.host}:${opts.port}: ${err.message}`));
    if (server.listening) return resolve();
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
