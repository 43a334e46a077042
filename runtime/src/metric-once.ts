/** One metric per registry, however many clients or pools report into it. */
import type { Metric, Registry } from 'prom-client';

/**
 * The metric `name` of `registry`, made by `make` (which registers it) the first time. Several
 * Redis clients, ES clients or shard maps of one process share their metric this way: a second
 * `new Histogram({ name, registers: [registry] })` would throw.
 * @example metricOnce(registry, 'parley_x_seconds', () => new Histogram({ name: 'parley_x_seconds', help, registers: [registry] }))
 */
export function metricOnce<M extends Metric>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}
