import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMetricsRegistry,
  type MetricsServer,
  mountOps,
  mountProbes,
  serveMetrics,
} from './ops';

describe('mountProbes', () => {
  it('serves /healthz and /readyz (503 when not ready), and no /metrics', async () => {
    const app = new Hono();
    let ready = true;
    mountProbes(app, { ready: () => ready });
    expect(await (await app.request('/healthz')).json()).toEqual({ ok: true });
    expect((await app.request('/readyz')).status).toBe(200);
    ready = false;
    expect((await app.request('/readyz')).status).toBe(503);
    expect((await app.request('/metrics')).status).toBe(404);
  });
});

describe('mountOps (the local stand-ins: one port, no public side)', () => {
  it('serves the probes and /metrics on the same app', async () => {
    const app = new Hono();
    mountOps(app, { registry: createMetricsRegistry('stand-in') });
    expect((await app.request('/healthz')).status).toBe(200);
    expect(await (await app.request('/metrics')).text()).toContain('service="stand-in"');
  });
});

describe('serveMetrics', () => {
  let served: MetricsServer | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it('serves the registry on its own port, and nothing else there', async () => {
    served = await serveMetrics(createMetricsRegistry('users'), { port: 0, host: '127.0.0.1' });
    if (!served) throw new Error('no metrics server');
    const res = await fetch(`${served.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/^process_cpu_user_seconds_total\{service="users"\} /m);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(404);
    expect((await fetch(`${served.url}/api/v1/rooms`)).status).toBe(404);
  });

  it('serves nothing when METRICS_PORT is unset', async () => {
    expect(await serveMetrics(new Registry(), { port: undefined, host: '127.0.0.1' })).toBe(
      undefined,
    );
  });

  it('rejects, naming the port, when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      await expect(serveMetrics(new Registry(), { port, host: '127.0.0.1' })).rejects.toThrow(
        new RegExp(`cannot serve metrics on 127.0.0.1:${port}: .*EADDRINUSE`),
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
