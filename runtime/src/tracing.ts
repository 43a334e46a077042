/**
 * Traces: OpenTelemetry, exported over OTLP (HTTP, protobuf) to a collector or straight to
 * Jaeger. One message is one trace across the gateway, Kafka, the KafkaSource, the functions, the
 * KafkaSink and the fan-out back to the gateways; the W3C trace context travels as the
 * CloudEvents distributed-tracing extension (`ce-traceparent` over HTTP, `ce_traceparent` in a
 * Kafka record's headers) and as `traceparent` on the Redis fan-out payload.
 *
 * Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set: then no provider is registered, `inSpan` runs
 * its callback directly, and `currentTraceparent` answers undefined after one boolean check, so an
 * untraced process pays nothing per message. On, `OTEL_TRACES_SAMPLER_ARG` (0…1, default 1) is the
 * ratio of new traces kept; a trace that arrives sampled or not keeps its parent's decision
 * (parent-based), so every hop of one message agrees.
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { z } from 'zod';

export type { Span };
export { SpanKind };

/** The tracing variables every deployable reads (the deployment table's `HOSTED` set). */
export const TracingConfigSchema = z.object({
  /** Base URL of an OTLP/HTTP receiver (`http://jaeger:4318`); unset or empty: tracing off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.url({ protocol: /^https?$/ }).optional(),
  ),
  /** The share of new traces kept, 0…1 (default 1 when tracing is on). */
  OTEL_TRACES_SAMPLER_ARG: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().min(0).max(1).default(1),
  ),
});
export type TracingConfig = z.infer<typeof TracingConfigSchema>;

const propagator = new W3CTraceContextPropagator();
let provider: TracerProvider | undefined;
let on = false;

/** True once `startTracing` registered a provider in this process. */
export const tracingOn = (): boolean => on;

/**
 * Registers the tracer provider for this process (once; later calls are ignored), if an endpoint
 * is configured. `service` becomes the spans' `service.name` (Jaeger's service).
 * @example startTracing('message-write', cfg)
 */
export function startTracing(
  service: string,
  cfg: Partial<TracingConfig>,
  /** Where spans go instead of OTLP (tests); the endpoint must still be set to switch tracing on. */
  exporter?: SpanExporter,
): boolean {
  if (provider || !cfg.OTEL_EXPORTER_OTLP_ENDPOINT) return on;
  const endpoint = cfg.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '');
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    sampler: new ParentBasedSampler({
      root: new TraceIdRatioBasedSampler(cfg.OTEL_TRACES_SAMPLER_ARG ?? 1),
    }),
    spanProcessors: [
      // Spans leave in batches off the hot path: every 500 ms or 512 spans, whichever first.
      new BatchSpanProcessor({
        exporter: exporter ?? new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
        scheduledDelayMillis: 500,
        maxExportBatchSize: 512,
        maxQueueSize: 8192,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagator);
  trace.setGlobalTracerProvider(provider);
  on = true;
  return on;
}

/** Exports what is buffered now (tests read their exporter after it). */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}

/** Exports what is buffered and stops (on SIGTERM, so the last spans are not lost). */
export async function stopTracing(): Promise<void> {
  const p = provider;
  if (!p) return;
  await p.forceFlush().catch(() => undefined);
  await p.shutdown().catch(() => undefined);
}

const tracer = () => trace.getTracer('parley');

/** The context a W3C `traceparent` continues (the root context when absent or invalid). */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, carrierGetter);
}

const carrierGetter = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

/** The `traceparent` of a span, or of the active span; undefined when tracing is off or none is active. */
export function currentTraceparent(span?: Span): string | undefined {
  if (!on) return undefined;
  const ctx = span ? trace.setSpan(ROOT_CONTEXT, span) : context.active();
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, {
    set: (c, k, v) => {
      c[k] = v;
    },
  });
  return carrier.traceparent;
}

export interface SpanOptions {
  kind: SpanKind;
  /**
   * What the span continues: a `traceparent` read off a wire, or undefined to continue the active
   * span (or start a trace when none is active).
   */
  parent?: string | undefined;
  attributes?: Attributes;
}

/** Starts a span continuing `opts.parent` (or the active span), and the context it is active in. */
function begin(name: string, opts: SpanOptions): { span: Span; ctx: Context } {
  const parent = opts.parent === undefined ? context.active() : contextOf(opts.parent);
  const span = tracer().startSpan(
    name,
    { kind: opts.kind, ...(opts.attributes ? { attributes: opts.attributes } : {}) },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span) };
}

/**
 * Runs `fn` inside a new span (the active one for whatever `fn` awaits), ended when `fn` settles;
 * a thrown error marks the span as failed and is rethrown. Tracing off: just `fn()`.
 * @example await inSpan('deliver message-write', { kind: SpanKind.CONSUMER, parent: event.traceparent }, (span) => post(...))
 */
export function inSpan<T>(
  name: string,
  opts: SpanOptions,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!on) {
    // A synchronous throw becomes a rejection, as with tracing on.
    try {
      return fn(undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const { span, ctx } = begin(name, opts);
  return context.with(ctx, async () => {
    try {
      return await fn(span);
    } catch (err) {
      markFailed(span, String(err));
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * A span that starts and ends at once around synchronous work (a fan-out to sockets), continuing
 * `parent`. Tracing off: just `fn()`.
 */
export function inSyncSpan<T>(
  name: string,
  opts: SpanOptions,
  fn: (span: Span | undefined) => T,
): T {
  if (!on) return fn(undefined);
  const { span, ctx } = begin(name, opts);
  try {
    return context.with(ctx, () => fn(span));
  } catch (err) {
    markFailed(span, String(err));
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Marks a span failed (an outcome that is not an exception: a record dead-lettered).
 * Nothing when tracing is off (no span).
 */
export function markFailed(span: Span | undefined, message: string): void {
  span?.setStatus({ code: SpanStatusCode.ERROR, message });
}
