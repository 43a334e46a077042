/**
 * The local stand-in for a Knative KafkaSink: an HTTP endpoint that takes a
 * CloudEvent (binary or structured mode), checks it against the catalog and
 * produces it to its catalog topic, keyed by its partition key, answering
 * 202 only once Kafka acknowledged it (so a 202 means the event is stored).
 * Invalid → 400 and nothing is produced; Kafka failing → 503 (retry it).
 *
 * A Knative KafkaSink writes to one topic; this one routes every catalog type
 * to its own topic, unless `topic` pins it like a real KafkaSink (an event
 * of another topic is then refused, which catches a miswired K_SINK).
 */
import {
  asParleyError,
  failpoint,
  installErrorHandler,
  type Logger,
  mountOps,
  ParleyError,
} from '@parley/runtime';
import {
  currentTraceparent,
  inSpan,
  type Span,
  SpanKind,
  tracingOn,
} from '@parley/runtime/tracing';
import { Hono } from 'hono';
import { Counter, Histogram, type Registry } from 'prom-client';
import { CATALOG } from '../catalog';
import { type AnyParleyEvent, fromHttp } from '../cloudevent';
import type { EventSink } from '../event-sink';

export interface KafkaSinkAppOptions {
  /** Where accepted events go: `kafkaEventSink(kafka)` (or a MemoryBus in tests). */
  sink: EventSink;
  log: Logger;
  registry: Registry;
  ready?: () => Promise<boolean> | boolean;
  /** Accept only events of this topic. */
  topic?: string;
}

/**
 * @example serve({ fetch: createKafkaSinkApp({ sink: kafkaEventSink(kafka), log, registry }).fetch, port })
 */
export function createKafkaSinkApp(opts: KafkaSinkAppOptions): Hono {
  const app = new Hono();
  installErrorHandler(app, opts.log);
  mountOps(app, { registry: opts.registry, ...(opts.ready ? { ready: opts.ready } : {}) });
  const events = new Counter({
    name: 'parley_sink_events_total',
    help: 'CloudEvents posted to the sink, by type and outcome (produced, refused, failed)',
    labelNames: ['type', 'outcome'],
    registers: [opts.registry],
  });
  const produceSeconds = new Histogram({
    name: 'parley_sink_produce_seconds',
    help: 'From request to Kafka acknowledgement',
    labelNames: ['type'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [opts.registry],
  });

  app.post('/', async (c) => {
    let event: AnyParleyEvent;
    try {
      event = fromHttp(c.req.raw.headers, await c.req.text());
      const topic = CATALOG[event.type].topic;
      if (opts.topic && topic !== opts.topic) {
        throw new ParleyError(
          'bad_request',
          `${event.type} belongs on ${topic}, not on this sink's ${opts.topic}`,
        );
      }
    } catch (err) {
      const e = asParleyError(err);
      events.inc({ type: 'invalid', outcome: 'refused' });
      opts.log.warn({ code: e.code, reason: e.message }, 'CloudEvent refused');
      return c.json(e.toBody(), 400);
    }
    const started = performance.now();
    try {
      // The record continues the caller's trace: its `ce_traceparent` header is this span.
      // Untraced, nothing of it is built.
      const produce = (span: Span | undefined) => {
        const traceparent = currentTraceparent(span);
        if (traceparent) event.traceparent = traceparent;
        return opts.sink.emit(event);
      };
      if (!tracingOn()) await produce(undefined);
      else
        await inSpan(
          `produce ${CATALOG[event.type].topic}`,
          {
            kind: SpanKind.PRODUCER,
            parent: event.traceparent,
            attributes: {
              'messaging.system': 'kafka',
              'messaging.destination.name': CATALOG[event.type].topic,
              'cloudevents.event_id': event.id,
              'cloudevents.event_type': event.type,
            },
          },
          produce,
        );
    } catch (err) {
      const e = asParleyError(err);
      events.inc({ type: event.type, outcome: 'failed' });
      opts.log.error({ err, ceId: event.id, ceType: event.type }, 'produce failed');
      return c.json(e.toBody(), e.retriable ? 503 : 400);
    }
    // Produced, but the caller has not heard so: it retries, and the record is in Kafka twice.
    await failpoint('kafka-sink.after-produce');
    produceSeconds.observe({ type: event.type }, (performance.now() - started) / 1000);
    events.inc({ type: event.type, outcome: 'produced' });
    return c.body(null, 202);
  });
  return app;
}
