/**
 * Delivers one CloudEvent over HTTP (binary content mode) the way a Knative
 * KafkaSource dispatcher does: retry on network errors, timeouts, 408, 429
 * and 5xx with exponential backoff; give up at once on any other non-2xx
 * (the function said the event can never succeed); give up after `retry`
 * retries. Knows nothing of Kafka, so it is tested with a fake fetch and a
 * loopback server.
 *
 * The POSTs go through node:http on a keep-alive agent (like the dispatcher's
 * pooled web client), not `fetch`: undici's fetch builds WHATWG streams, an
 * AbortSignal and a Request per call, which cost the stand-in about as much
 * CPU as everything else it does per event.
 */
import { Agent, request } from 'node:http';
import { type ParleyEvent, toHttpBinary } from '../cloudevent';
import { backoffMs, type DeliveryPolicy, sleep } from '../delivery-policy';

export interface HttpDeliveryOptions extends DeliveryPolicy {
  sinkUrl: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Posts through this instead of node:http (tests script a sink with it). */
  fetchImpl?: typeof fetch;
  /**
   * The body as read, posted as is instead of `event.data` serialized again: the Kafka record's
   * value, which binary mode carries unchanged from record to request (as Knative's dispatcher).
   */
  body?: string;
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

/**
 * Connections to the sinks, kept open between deliveries. At most 100 per sink, as Knative's
 * dispatcher pools them (`maxPoolSize` of `config-kafka-source-webclient.properties`); an unordered
 * source has at most `max.poll.records` (50) requests out, an ordered one one per partition.
 * `timeout` closes an idle connection after a minute, or a second before the server's
 * `Keep-Alive: timeout=` hint (Node applies the hint only when a timeout is set), so a POST is
 * rarely sent on a connection the server is closing.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 100, scheduling: 'lifo', timeout: 60_000 });

/**
 * One POST on the shared keep-alive agent: its status and (the first KiB of) its body, or a thrown
 * error when there is no response in time. Also what `httpEventSink` emits with.
 */
export function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        // Only the first bytes are kept (Knative's knativeerrordata); the rest is drained.
        if (size < ERROR_DATA_MAX_BYTES) chunks.push(c);
        size += c.length;
      });
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
      });
      res.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    // A string, not a Buffer: Node then sends the headers and the body in one write.
    req.end(body);
  });
}

async function viaFetch(
  fetchImpl: typeof fetch,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const res = await fetchImpl(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text().catch(() => '') };
}

async function attempt(event: ParleyEvent, opts: HttpDeliveryOptions): Promise<Attempt> {
  const { headers, body } = toHttpBinary(event, opts.body);
  let res: { status: number; text: string };
  try {
    res = opts.fetchImpl
      ? await viaFetch(opts.fetchImpl, opts.sinkUrl, headers, body, opts.timeoutMs)
      : await post(opts.sinkUrl, headers, body, opts.timeoutMs);
  } catch (err) {
    return { ok: false, retriable: true, data: `dispatch error: ${errorText(err)}` };
  }
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  const data = Buffer.from(res.text).subarray(0, ERROR_DATA_MAX_BYTES).toString();
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
