import type { Server } from 'node:http';
import { freePort } from '@parley/tests/support/infra';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { functionRegistry, hostFunction, registerFunction } from './function-host';
import { functionApp } from './http-app';
import { ListenConfigSchema, serveFunction } from './serve-function';

describe('serveFunction', () => {
  const name = 'serve-function-test';
  let server: Server;
  let port: number;
  let metricsPort: number;

  beforeAll(async () => {
    const { ctx } = hostFunction(
      {
        name,
        config: z.object({}),
        adapters: () => ({ deps: {}, ready: async () => true, close: async () => {} }),
      },
      { LOG_LEVEL: 'silent' },
    );
    registerFunction(name, functionApp({ log: ctx.log, registry: ctx.registry }));
    port = await freePort();
    metricsPort = await freePort();
    server = serveFunction(name, {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
    });
    await vi.waitFor(async () => {
      expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
    });
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('serves the probes on PORT, and answers /metrics there 404', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it("serves the function's own registry on METRICS_PORT", async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toContain(`service="${name}"`);
    expect(functionRegistry(name)).toBeDefined();
    expect((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status).toBe(404);
  });

  it('sets the cold start once the function listens', async () => {
    await vi.waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const seconds = Number(text.match(/^parley_cold_start_seconds\{[^}]*\} (\S+)$/m)?.[1]);
      // Since the (test) process started: positive, and less than the process's uptime.
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(process.uptime());
    });
  });

  it('closes the metrics port with the server', async () => {
    await new Promise((resolve) => server.close(resolve));
    await vi.waitFor(async () => {
      await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
    });
  });
});

describe('ListenConfigSchema', () => {
  it('reads PORT, HOST and METRICS_PORT; no METRICS_PORT means no metrics port', () => {
    expect(ListenConfigSchema.parse({})).toEqual({ PORT: 8080, HOST: '127.0.0.1' });
    expect(ListenConfigSchema.parse({ METRICS_PORT: '9464' }).METRICS_PORT).toBe(9464);
    expect(ListenConfigSchema.safeParse({ METRICS_PORT: 'metrics' }).success).toBe(false);
    expect(ListenConfigSchema.safeParse({ METRICS_PORT: '70000' }).success).toBe(false);
  });
});
