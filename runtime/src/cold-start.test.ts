import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { COLD_START_SECONDS, recordColdStart } from './cold-start';

const coldStart = async (registry: Registry) =>
  (await registry.getSingleMetric(COLD_START_SECONDS)?.get())?.values[0]?.value;

describe('recordColdStart', () => {
  it('records the first start only', async () => {
    const registry = new Registry();
    recordColdStart(registry, 1.25);
    recordColdStart(registry, 9);
    expect(await coldStart(registry)).toBe(1.25);
  });

  it('defaults to the seconds since the process started', async () => {
    const registry = new Registry();
    recordColdStart(registry);
    const seconds = (await coldStart(registry)) ?? Number.NaN;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(process.uptime() + 0.5);
  });
});
