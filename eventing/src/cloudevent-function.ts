/**
 * The one wrapper around every CloudEvent function: reads the request
 * (binary or structured mode), validates it against the catalog, runs the
 * handler, and answers with a status a KafkaSource understands:
 * - 2xx: done, commit the offset;
 * - 400: the event can never succeed (invalid, refused) — dead-letter it now;
 * - 5xx: something transient failed — retry with backoff.
 * It also serves the probes and Parley's 404/405 answers; its metrics are
 * served on the private METRICS_PORT by runtime's `serveFunction`.
 */
import {
  asParleyError,
  eventLogFields,
  failpoint,
  installErrorHandler,
  type Logger,
  mountProbes,
  ParleyError,
} from '@parley/runtime';
import { type FunctionSpec, hostFunction, registerFunction } from '@parley/runtime/function-host';
import { inSpan, SpanKind, tracingOn } from '@parley/runtime/tracing';
import { Hono } from 'hono';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { z } from 'zod';
import type { EventType } from './catalog';
import type { AnyParleyEvent } from './cloudevent';
import { fromHttp } from './cloudevent';

export interface CloudEventContext {
  log: Logger;
}

export interface CloudEventFunction {
  name: string;
  /** Event types this function handles; anything else is refused with 400. */
  accepts: readonly EventType[];
  handle(event: AnyParleyEvent, ctx: CloudEventContext): Promise<void>;
}

export interface CloudEventAppOptions {
  log: Logger;
  registry: Registry;
  ready?: () => Promise<boolean> | boolean;
}

/**
 * Runs an event through a function with logging and error classification;
 * used by the HTTP app below and, in the embedded mode, by the memory bus.
 * Throws a ParleyError (retriable or not) on failure.
 */
export async function invokeCloudEventFunction(
  fn: CloudEventFunction,
  event: AnyParleyEvent,
  log: Logger,
): Promise<void> {
  const elog = log.child(eventLogFields(event));
  if (!fn.accepts.includes(event.type)) {
    throw new ParleyError('bad_request', `${fn.name} does not handle ${event.type}`);
  }
  try {
    await failpoint(`${fn.name}.before-handle`);
    // The span continues the trace the event carries (its `traceparent` extension); whatever the
    // handler emits or publishes inside it continues this span. Untraced, nothing of it is built.
    if (!tracingOn()) await fn.handle(event, { log: elog });
    else
      await inSpan(
        `${fn.name} ${event.type}`,
        {
          kind: SpanKind.SERVER,
          parent: event.traceparent,
          attributes: {
            'cloudevents.event_id': event.id,
            'cloudevents.event_type': event.type,
            'parley.partition_key': event.partitionkey,
          },
        },
        () => fn.handle(event, { log: elog }),
      );
    // Handled, but the source has not heard so: it redelivers (the offset is not committed).
    await failpoint(`${fn.name}.before-reply`);
  } catch (err) {
    const e = asParleyError(err);
    if (e.retriable) elog.warn({ err, code: e.code }, 'event failed; will be retried');
    else elog.warn({ code: e.code, reason: e.message }, 'event refused');
    throw e;
  }
}

/** @example registerFunction('message-write', cloudEventApp(messageWrite, { log, registry })) */
export function cloudEventApp(fn: CloudEventFunction, opts: CloudEventAppOptions): Hono {
  const app = new Hono();
  installErrorHandler(app, opts.log);
  mountProbes(app, opts.ready ? { ready: opts.ready } : {});
  const handled = new Counter({
    name: 'parley_events_handled_total',
    help: 'CloudEvents handled by this function, by type, outcome (ok, retry, refused) and error code (ok when handled)',
    labelNames: ['function', 'type', 'outcome', 'code'],
    registers: [opts.registry],
  });
  const duration = new Histogram({
    name: 'parley_event_handle_seconds',
    help: 'Time to handle one CloudEvent',
    labelNames: ['function', 'type'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [opts.registry],
  });
  app.post('/', async (c) => {
    const started = performance.now();
    let event: AnyParleyEvent;
    try {
      event = fromHttp(c.req.raw.headers, await c.req.text());
    } catch (err) {
      const e = asParleyError(err);
      handled.inc({ function: fn.name, type: 'invalid', outcome: 'refused', code: e.code });
      opts.log.warn({ code: e.code, reason: e.message }, 'invalid CloudEvent refused');
      return c.json(e.toBody(), 400);
    }
    try {
      await invokeCloudEventFunction(fn, event, opts.log);
      handled.inc({ function: fn.name, type: event.type, outcome: 'ok', code: 'ok' });
      return c.body(null, 202);
    } catch (err) {
      const e = asParleyError(err);
      handled.inc({
        function: fn.name,
        type: event.type,
        outcome: e.retriable ? 'retry' : 'refused',
        code: e.code,
      });
      return c.json(e.toBody(), e.retriable ? 503 : 400);
    } finally {
      duration.observe(
        { function: fn.name, type: event.type },
        (performance.now() - started) / 1000,
      );
    }
  });
  return app;
}

// biome-ignore lint/suspicious/noExplicitAny: a config schema is any zod object
export interface CloudEventFunctionSpec<S extends z.ZodObject<any>, D> extends FunctionSpec<S, D> {
  handler: (deps: D & { log: Logger }) => CloudEventFunction;
}

/** Types a CloudEvent function's spec (identity at run time). */
// biome-ignore lint/suspicious/noExplicitAny: a config schema is any zod object
export const defineCloudEventFunction = <S extends z.ZodObject<any>, D>(
  spec: CloudEventFunctionSpec<S, D>,
): CloudEventFunctionSpec<S, D> => spec;

/**
 * The CloudEvent twin of runtime's `httpFunction`: config, adapters, the
 * handler wrapped by `cloudEventApp`, registered under the function's name.
 * @example cloudEventFunction({ name: 'message-write', config, adapters: realMessageWrite, handler: createMessageWrite });
 */
// biome-ignore lint/suspicious/noExplicitAny: a config schema is any zod object
export function cloudEventFunction<S extends z.ZodObject<any>, D>(
  spec: CloudEventFunctionSpec<S, D>,
): void {
  const { ctx, adapters } = hostFunction(spec);
  const fn = spec.handler({ ...adapters.deps, log: ctx.log });
  registerFunction(
    spec.name,
    cloudEventApp(fn, { log: ctx.log, registry: ctx.registry, ready: adapters.ready }),
  );
}
