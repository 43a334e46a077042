/**
 * `parley_cold_start_seconds`: how long this process took to become able to serve, set once.
 *
 * Measured from the process's time origin (`performance.timeOrigin`: Node sets it as the process
 * starts, before any module is loaded) to the moment the caller says it serves — for a function,
 * when its serving port listens, its adapters being built already (the host builds them as the
 * function's module is imported, before `serveFunction` listens; pools and clients connect lazily,
 * so the first query's connect is not in it). It leaves out what happens before Node starts (pod
 * scheduling, image pull, container start) and after (the kubelet's or queue-proxy's first
 * successful readiness probe): Knative's own revision metrics cover those.
 */
import { Gauge, type Registry } from 'prom-client';
import { metricOnce } from './metric-once';

export const COLD_START_SECONDS = 'parley_cold_start_seconds';

/**
 * Sets `parley_cold_start_seconds` in `registry` to the seconds since the process started; later
 * calls leave it as it is (the first start is the cold one).
 * @example server.once('listening', () => recordColdStart(registry));
 */
export function recordColdStart(registry: Registry, seconds = performance.now() / 1000): void {
  let recorded = true;
  const gauge = metricOnce(registry, COLD_START_SECONDS, () => {
    recorded = false;
    return new Gauge({
      name: COLD_START_SECONDS,
      help: 'Seconds from the process start (performance.timeOrigin) to serving: the serving port listening, adapters built',
      registers: [registry],
    });
  });
  if (!recorded) gauge.set(seconds);
}
