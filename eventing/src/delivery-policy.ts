/**
 * The delivery policy shared by the KafkaSource stand-in and the memory bus,
 * shaped like Knative's delivery spec (`retry`, `backoffPolicy`,
 * `backoffDelay`) plus a cap on one wait, so a long retry series cannot stall
 * a partition for minutes.
 */

export type BackoffPolicy = 'exponential' | 'linear';

export interface DeliveryPolicy {
  /** Retries after the first attempt (Knative `retry`). */
  retry: number;
  /** Knative `backoffPolicy` (default exponential). */
  backoffPolicy?: BackoffPolicy;
  /** Wait before the first retry, in ms (Knative `backoffDelay`). */
  backoffDelayMs: number;
  /** Longest single wait, in ms. */
  backoffMaxMs: number;
}

/**
 * How a KafkaSource hands a partition's records to its sink (Knative's KafkaSource `spec.ordering`;
 * Knative offers exactly these two, and no batch delivery):
 * - `ordered`: one record at a time per partition, the next only after the sink answered the one
 *   before (Knative's default for a KafkaSource);
 * - `unordered`: records are posted as they are read, several at once, in any order, up to
 *   `max.poll.records` in flight per consumer; the committed offset of a partition still only
 *   moves to its lowest record not yet answered, so a crash redelivers and nothing is lost.
 */
export type DeliveryOrdering = 'ordered' | 'unordered';

/**
 * Records an unordered KafkaSource has in flight at most: Knative's dispatcher polls again only
 * while fewer than the consumer's `max.poll.records` are in flight, 50 in its
 * `config-kafka-source-data-plane` ConfigMap. (It may then take up to one more poll's worth; the
 * stand-in keeps to the bound.)
 */
export const DEFAULT_MAX_POLL_RECORDS = 50;

/**
 * Transient failures (a network error, a timeout, 408, 429, 5xx) are retried for 3.5 minutes —
 * waits of 1 s, 2 s, … 20 s — before a record is dead-lettered: long enough to ride out a restart
 * of a function, a database or Elasticsearch, which the fault suite does. A refusal (another 4xx)
 * is dead-lettered at once, so poison never waits. Knative's linear backoff has no cap, so the
 * cap equals the last wait and both deliver alike.
 */
export const DEFAULT_DELIVERY: DeliveryPolicy = {
  retry: 20,
  backoffPolicy: 'linear',
  backoffDelayMs: 1_000,
  backoffMaxMs: 20_000,
};

/**
 * Retry n (1-based) waits `backoffDelayMs · 2^(n-1)` (exponential) or `backoffDelayMs · n`
 * (linear), as Knative does, capped at `backoffMaxMs`.
 * @example backoffMs(3, { retry: 5, backoffDelayMs: 200, backoffMaxMs: 10_000 }) // 800
 * @example backoffMs(3, { retry: 20, backoffPolicy: 'linear', backoffDelayMs: 1_000, backoffMaxMs: 30_000 }) // 3000
 */
export function backoffMs(retryNumber: number, policy: DeliveryPolicy): number {
  const n = Math.max(1, retryNumber);
  const wait =
    policy.backoffPolicy === 'linear'
      ? policy.backoffDelayMs * n
      : policy.backoffDelayMs * 2 ** (n - 1);
  return Math.min(policy.backoffMaxMs, wait);
}

/** The longest a record can be retried before it is dead-lettered (waits only, no attempts). */
export function retryWindowMs(policy: DeliveryPolicy): number {
  let total = 0;
  for (let n = 1; n <= policy.retry; n++) total += backoffMs(n, policy);
  return total;
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
