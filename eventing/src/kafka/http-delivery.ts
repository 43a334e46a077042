/**
 * Delivers one CloudEvent over HTTP (binary content mode) the way a Knative
 * KafkaSource dispatcher does: retry on network errors, timeouts, 408, 429
 * and 5xx with exponential backoff; give up at once on any other non-2xx
 * (the function said the event can never succeed); give up after `retry`
 * retries. Knows nothing of Kafka, so it is tested with a fake fetch.
 */
import { type ParleyEvent, toHttpBinary } from '../cloudevent';
import { backoffMs, type DeliveryPolicy, sleep } from '../delivery-policy';

export interface HttpDeliveryOptions extends DeliveryPolicy {
  sinkUrl: string;
  /** Per attempt. */
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  /** Aborts pending backoff waits (not an attempt in flight): the result is then 'aborted'. */
  signal?: AbortSignal;
  onRetry?: (attempt: number, reason: string) => void;
}

export type HttpDeliveryResult =
  | { outcome: 'delivered'; status: number; attempts: number }
  /** `status` is absent when the last attempt got no response; `data` is the response body or the error. */
  | { outcome: 'dead-letter'; status?: number; data: string; attempts: number; retriable: boolean }
  | { outcome: 'aborted'; attempts: number };

/** Statuses worth retrying: the sink may succeed later. */
export const isRetriableStatus = (status: number): boolean =>
  status === 408 || status === 429 || status >= 500;

/** Knative truncates `knativeerrordata` to this many bytes. */
export const ERROR_DATA_MAX_BYTES = 1024;

type Attempt =
  | { ok: true; status: number }
  | { ok: false; retriable: boolean; status?: number; data: string };

async function attempt(event: ParleyEvent, opts: HttpDeliveryOptions): Promise<Attempt> {
  const { headers, body } = toHttpBinary(event);
  let res: Response;
  try {
    res = await (opts.fetchImpl ?? fetch)(opts.sinkUrl, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    return { ok: false, retriable: true, data: `dispatch error: ${errorText(err)}` };
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return { ok: true, status: res.status };
  const data = Buffer.from(text).subarray(0, ERROR_DATA_MAX_BYTES).toString();
  return { ok: false, retriable: isRetriableStatus(res.status), status: res.status, data };
}

const errorText = (err: unknown): string => {
  const cause = (err as { cause?: { code?: string } })?.cause?.code;
  return `${err instanceof Error ? err.message : String(err)}${cause ? ` (${cause})` : ''}`;
};

/**
 * @example const r = await deliverHttp(event, { sinkUrl, timeoutMs: 30_000, ...DEFAULT_DELIVERY })
 */
export async function deliverHttp(
  event: ParleyEvent,
  opts: HttpDeliveryOptions,
): Promise<HttpDeliveryResult> {
  for (let attempts = 1; ; attempts++) {
    const r = await attempt(event, opts);
    if (r.ok) return { outcome: 'delivered', status: r.status, attempts };
    if (!r.retriable || attempts > opts.retry) {
      return {
        outcome: 'dead-letter',
        ...(r.status === undefined ? {} : { status: r.status }),
        data: r.data,
        attempts,
        retriable: r.retriable,
      };
    }
    opts.onRetry?.(attempts, r.status === undefined ? r.data : `status ${r.status}`);
    if (!(await sleep(backoffMs(attempts, opts), opts.signal)))
      return { outcome: 'aborted', attempts };
  }
}
