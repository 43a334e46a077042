/**
 * Where a function sends the events it emits. Under Knative that is the URL a
 * SinkBinding injects as `K_SINK` (a KafkaSink); locally the same URL points
 * at eventing's KafkaSink stand-in; in the embedded mode it is the memory bus.
 */
import { ParleyError } from '@parley/runtime';
import { type ParleyEvent, toHttpBinary } from './cloudevent';
import { post } from './kafka/http-delivery';

export interface EventSink {
  emit(event: ParleyEvent): Promise<void>;
}

/**
 * POSTs each event in binary content mode to `url`. A non-2xx answer throws a
 * retriable error, so the function's own delivery is retried (at least once).
 * Through node:http on a keep-alive agent, not `fetch`: undici's fetch and an
 * `AbortSignal.timeout` per call (a timer that lives its full 10 s) cost more
 * CPU than the rest of an emit (perf/results, issue 12).
 * @example const sink = httpEventSink(process.env.K_SINK!)
 */
export function httpEventSink(url: string, timeoutMs = 10_000): EventSink {
  return {
    async emit(event) {
      const { headers, body } = toHttpBinary(event);
      let res: { status: number; text: string };
      try {
        res = await post(url, headers, body, timeoutMs);
      } catch (err) {
        throw new ParleyError('unavailable', `event sink unreachable: ${String(err)}`, {
          cause: err,
        });
      }
      if (res.status < 200 || res.status > 299) {
        throw new ParleyError(
          'unavailable',
          `event sink answered ${res.status}: ${res.text.slice(0, 200)}`,
        );
      }
    },
  };
}
