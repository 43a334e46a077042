/**
 * The delivery policy shared by the KafkaSource stand-in and the memory bus,
 * shaped like Knative's delivery spec (`retry`, `backoffPolicy: exponential`,
 * `backoffDelay`) plus a cap on one wait, so a long retry series cannot stall
 * a partition for minutes.
 */

export interface DeliveryPolicy {
  /** Retries after the first attempt (Knative `retry`). */
  retry: number;
  /** Wait before the first retry, in ms (Knative `backoffDelay`). */
  backoffDelayMs: number;
  /** Longest single wait, in ms. */
  backoffMaxMs: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = {
  retry: 5,
  backoffDelayMs: 200,
  backoffMaxMs: 10_000,
};

/**
 * Exponential backoff: retry n (1-based) waits `backoffDelayMs · 2^(n-1)`, capped.
 * @example backoffMs(3, { retry: 5, backoffDelayMs: 200, backoffMaxMs: 10_000 }) // 800
 */
export function backoffMs(retryNumber: number, policy: DeliveryPolicy): number {
  const exp = policy.backoffDelayMs * 2 ** Math.max(0, retryNumber - 1);
  return Math.min(policy.backoffMaxMs, exp);
}

/** Resolves after `ms`, or early (false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
