import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import {
  contextOf,
  currentTraceparent,
  flushTracing,
  inSpan,
  inSyncSpan,
  SpanKind,
  startTracing,
  TracingConfigSchema,
  tracingOn,
} from './tracing';

// One process, one provider: the "off" cases run first, then tracing is switched on for the rest.
const exporter = new InMemorySpanExporter();
const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const UNSAMPLED = '00-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203331-00';
const parse = (tp: string | undefined) => {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/.exec(tp ?? '');
  if (!m) throw new Error(`not a traceparent: ${tp}`);
  return { traceId: m[1], spanId: m[2], sampled: m[3] === '01' };
};

describe('tracing', () => {
  it('reads its config: an empty endpoint is off, the ratio is 0…1 and 1 by default', () => {
    expect(TracingConfigSchema.parse({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toEqual({
      OTEL_TRACES_SAMPLER_ARG: 1,
    });
    expect(
      TracingConfigSchema.parse({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }),
    ).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_TRACES_SAMPLER_ARG: 0.25,
    });
    expect(() => TracingConfigSchema.parse({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow();
    expect(() =>
      TracingConfigSchema.parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318' }),
    ).toThrow();
  });

  it('off (no endpoint): runs the callback with no span and makes no traceparent', async () => {
    expect(startTracing('test', { OTEL_TRACES_SAMPLER_ARG: 1 }, exporter)).toBe(false);
    expect(tracingOn()).toBe(false);
    const seen = await inSpan('x', { kind: SpanKind.SERVER, parent: PARENT }, async (span) => {
      expect(span).toBeUndefined();
      return currentTraceparent();
    });
    expect(seen).toBeUndefined();
    expect(inSyncSpan('y', { kind: SpanKind.CONSUMER }, (span) => span)).toBeUndefined();
  });

  it('on: a span continues the traceparent it is given, and is what inner work propagates', async () => {
    expect(
      startTracing(
        'test',
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_TRACES_SAMPLER_ARG: 1 },
        exporter,
      ),
    ).toBe(true);
    const inner = await inSpan('handle', { kind: SpanKind.SERVER, parent: PARENT }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      // After an await, still this span (AsyncLocalStorage), and a child continues it.
      return inSpan('child', { kind: SpanKind.CLIENT }, async () => currentTraceparent());
    });
    await flushTracing();
    const spans = exporter.getFinishedSpans();
    const handle = spans.find((s) => s.name === 'handle');
    const child = spans.find((s) => s.name === 'child');
    expect(handle?.spanContext().traceId).toBe(parse(PARENT).traceId);
    expect(handle?.parentSpanContext?.spanId).toBe(parse(PARENT).spanId);
    expect(child?.parentSpanContext?.spanId).toBe(handle?.spanContext().spanId);
    expect(parse(inner)).toEqual({
      traceId: parse(PARENT).traceId,
      spanId: child?.spanContext().spanId,
      sampled: true,
    });
  });

  it("keeps the parent's sampling decision, and a failure marks the span", async () => {
    exporter.reset();
    const tp = await inSpan('quiet', { kind: SpanKind.SERVER, parent: UNSAMPLED }, async (span) =>
      currentTraceparent(span),
    );
    // Not recorded, but the context still travels (sampled flag 00), so later hops agree.
    expect(parse(tp)).toMatchObject({ traceId: parse(UNSAMPLED).traceId, sampled: false });
    await expect(
      inSpan('fails', { kind: SpanKind.SERVER }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await flushTracing();
    const names = exporter.getFinishedSpans().map((s) => s.name);
    expect(names).toEqual(['fails']);
    expect(exporter.getFinishedSpans()[0]?.status.code).toBe(2); // ERROR
  });

  it('starts a new trace without a parent, and ignores a malformed traceparent', async () => {
    const a = await inSpan('root', { kind: SpanKind.PRODUCER }, async (s) => currentTraceparent(s));
    const b = await inSpan('bad parent', { kind: SpanKind.SERVER, parent: 'garbage' }, async (s) =>
      currentTraceparent(s),
    );
    expect(parse(a).traceId).not.toBe(parse(b).traceId);
    expect(contextOf(undefined)).toBe(contextOf(''));
  });
});
