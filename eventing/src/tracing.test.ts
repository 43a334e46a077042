/**
 * The trace context through a CloudEvent function: the handler's span continues the request's
 * `ce-traceparent`, and an event it emits carries that span as its own traceparent (what the
 * KafkaSink puts in the record's `ce_traceparent`). The whole chain on real processes is
 * tests/observability.
 */

import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { createLogger, createMetricsRegistry } from '@parley/runtime';
import { flushTracing, startTracing } from '@parley/runtime/tracing';
import { describe, expect, it } from 'vitest';
import { type AnyParleyEvent, createEvent, toHttpBinary } from './cloudevent';
import { cloudEventApp } from './cloudevent-function';

const exporter = new InMemorySpanExporter();
startTracing(
  'test',
  { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_TRACES_SAMPLER_ARG: 1 },
  exporter,
);

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const incoming = `00-${TRACE}-00f067aa0ba902b7-01`;

describe('a CloudEvent function, traced', () => {
  it('handles in a span continuing ce-traceparent; what it emits continues that span', async () => {
    const emitted: AnyParleyEvent[] = [];
    const app = cloudEventApp(
      {
        name: 'message-write',
        accepts: ['parley.message.send'],
        async handle(event) {
          if (event.type !== 'parley.message.send') return;
          // Any event made inside the handler: here a second send.
          emitted.push(
            createEvent(
              'parley.message.send',
              { ...event.data, clientMsgId: 'c-2' },
              { source: 'message-write' },
            ),
          );
        },
      },
      { log: createLogger('test', 'silent'), registry: createMetricsRegistry('test') },
    );
    const send = createEvent(
      'parley.message.send',
      { actorId: 'u_1', roomId: 'r_1', clientMsgId: 'c-1', body: 'hi', acceptedTs: 1 },
      { source: 'gateway', traceparent: incoming },
    );
    const { headers, body } = toHttpBinary(send);
    expect(headers['ce-traceparent']).toBe(incoming);
    const res = await app.request('/', { method: 'POST', headers, body });
    expect(res.status).toBe(202);

    await flushTracing();
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('message-write parley.message.send');
    expect(span?.spanContext().traceId).toBe(TRACE);
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(emitted[0]?.traceparent).toBe(`00-${TRACE}-${span?.spanContext().spanId}-01`);
  });
});
