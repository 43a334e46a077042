/**
 * Where a function sends the events it emits. Under Knative that is the URL a
 * SinkBinding injects as `K_SINK` (a KafkaSink); locally the same URL points
 * at eventing's KafkaSink stand-in; in the embedded mode it is the memory bus.
 */
import { ParleyError } from '@parley/runtime';
import { type ParleyEvent, toHttpBinary } from './cloudevent';

export interface EventSink {
  emit(event: ParleyEvent): Promise<void>;
}

/**
 * POSTs each event in binary content mode to `url`. A non-2xx answer throws a
 * retriable error, so the function's own delivery is retried (at least once).
 * @example const sink = httpEventSink(process.env.K_SINK!)
 */
export function httpEventSink(url: string, timeoutMs = 10_000): EventSink {
  return {
    async emit(event) {
      const { headers, body } = toHttpBinary(event);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new ParleyError('unavailable', `event sink unreachable: ${String(err)}`, {
          cause: err,
        });
      }
      if (!res.ok) {
        const text = await res.text().catch(() => '');
        throw new ParleyError(
          'unavailable',
          `event sink answered ${res.status}: ${text.slice(0, 200)}`,
        );
      }
    },
  };
}
