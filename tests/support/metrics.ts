/** Reading a prom-client registry in tests, as a scrape would collect it. */
import type { Registry } from 'prom-client';

/**
 * The value of one series of metric `name` whose labels include `labels` (a histogram's
 * `_count`/`_sum`/`_bucket` with `series`); 0 when there is none.
 * @example await seriesValue(registry, 'parley_http_requests_total', { route: '/x', code: '200' })
 */
export async function seriesValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
  series = name,
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const found = metric?.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === series &&
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return found?.value ?? 0;
}
