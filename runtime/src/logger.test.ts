import { setTimeout as sleep } from 'node:timers/promises';
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, eventLogFields, roomIdOf } from './logger';

/** A logger whose lines are kept, parsed, instead of written to stdout. */
function captured(service = 'logger-test') {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(service, 'debug', {
    write: (s: string) => {
      lines.push(JSON.parse(s));
    },
  });
  return { log, lines };
}

const TRACE_KEYS = ['trace_id', 'span_id', 'trace_flags'];
const traceKeysOf = (line: Record<string, unknown>) =>
  TRACE_KEYS.filter((k) => Object.hasOwn(line, k));

// Runs first, before the block below registers anything: this is a process with tracing off.
describe('createLogger with tracing off (no provider, no context manager)', () => {
  it('adds no trace fields, even inside a (no-op) active span', () => {
    const { log, lines } = captured();
    trace.getTracer('t').startActiveSpan('noop', (span) => {
      log.info('inside a no-op span');
      span.end();
    });
    log.info('outside');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(traceKeysOf(line)).toEqual([]);
    expect(lines[0]).toMatchObject({
      service: 'logger-test',
      level: 'info',
      msg: 'inside a no-op span',
    });
  });

  it('writes each line’s own fields only', () => {
    const { log, lines } = captured();
    log.info({ a: 1 }, 'first');
    log.info('second');
    expect(lines[0]).toMatchObject({ a: 1 });
    expect(lines[1]).not.toHaveProperty('a');
  });
});

describe('createLogger with tracing on', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  const provider = new TracerProvider();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });
  const tracer = () => trace.getTracer('logger-test');

  it('a line inside an active span carries that span’s trace_id, span_id and trace_flags', async () => {
    const { log, lines } = captured();
    let span: Span | undefined;
    await tracer().startActiveSpan('handle', async (s) => {
      span = s;
      log.info('before await');
      // The context survives an await (AsyncLocalStorage), as it must in a handler.
      await sleep(1);
      log.child({ ceId: 'e1' }).warn('after await, from a child logger');
      s.end();
    });
    const sc = span?.spanContext();
    expect(sc?.traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const line of lines) {
      expect(line).toMatchObject({ trace_id: sc?.traceId, span_id: sc?.spanId, trace_flags: '01' });
    }
    expect(lines[1]).toMatchObject({ ceId: 'e1', level: 'warn' });
  });

  it('a nested span’s lines carry its own span_id and the same trace_id', () => {
    const { log, lines } = captured();
    tracer().startActiveSpan('outer', (outer) => {
      tracer().startActiveSpan('inner', (inner) => {
        log.info('inner');
        expect(lines[0]).toMatchObject({
          trace_id: outer.spanContext().traceId,
          span_id: inner.spanContext().spanId,
        });
        expect(inner.spanContext().spanId).not.toBe(outer.spanContext().spanId);
        inner.end();
      });
      log.info('outer again');
      expect(lines[1]).toMatchObject({ span_id: outer.spanContext().spanId });
      outer.end();
    });
  });

  it('keeps the line one JSON object when it holds braces, nested objects and an error', () => {
    const { log, lines } = captured();
    tracer().startActiveSpan('braces', (s) => {
      log.error(
        { err: new Error('bad } {'), frame: { type: 'send', n: [1, { x: '}' }] } },
        'msg with }',
      );
      expect(lines[0]).toMatchObject({
        msg: 'msg with }',
        err: { message: 'bad } {' },
        frame: { type: 'send', n: [1, { x: '}' }] },
        trace_id: s.spanContext().traceId,
      });
      s.end();
    });
  });

  it('a line outside any span has no trace fields', () => {
    const { log, lines } = captured();
    tracer().startActiveSpan('done', (s) => s.end());
    log.info('outside');
    expect(traceKeysOf(lines[0] ?? {})).toEqual([]);
  });

  it('a sampled-out span still ties lines to its trace, flagged 00 (not in Jaeger)', () => {
    const { log, lines } = captured();
    const off = new TracerProvider({ sampler: new AlwaysOffSampler() });
    off.getTracer('off').startActiveSpan('sampled-out', (s) => {
      log.info('not sampled');
      expect(lines[0]).toMatchObject({
        trace_id: s.spanContext().traceId,
        span_id: s.spanContext().spanId,
        trace_flags: '00',
      });
      s.end();
    });
  });

  it('still redacts secrets and bodies, and does not write into the caller’s object', () => {
    const { log, lines } = captured();
    const fields = {
      token: 't0k3n',
      body: 'a private message',
      user: { password: 'hunter2' },
      req: { headers: { authorization: 'Bearer x' } },
      roomId: 'r_1',
    };
    tracer().startActiveSpan('redact', (s) => {
      log.info(fields, 'with secrets');
      s.end();
    });
    const line = lines[0] ?? {};
    expect(line).toMatchObject({
      token: '[redacted]',
      body: '[redacted]',
      user: { password: '[redacted]' },
      req: { headers: { authorization: '[redacted]' } },
      roomId: 'r_1',
    });
    expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(line)).not.toMatch(/t0k3n|private message|hunter2|Bearer/);
    expect(fields).not.toHaveProperty('trace_id');
    expect(fields.token).toBe('t0k3n');
  });
});

describe('eventLogFields / roomIdOf', () => {
  it('finds the room where the catalog puts it: roomId, message.roomId, room.id', () => {
    expect(roomIdOf({ actorId: 'u_1', roomId: 'r_1' })).toBe('r_1');
    expect(roomIdOf({ message: { id: 'm_1', roomId: 'r_2' } })).toBe('r_2');
    expect(roomIdOf({ room: { id: 'r_3' }, userId: 'u_1' })).toBe('r_3');
    expect(roomIdOf({ actorId: 'u_1', all: true })).toBeUndefined();
    expect(roomIdOf({ roomId: 7 })).toBeUndefined();
    expect(roomIdOf(null)).toBeUndefined();
    expect(roomIdOf('r_1')).toBeUndefined();
  });

  it('binds ceId, ceType, key and roomId when known; a line carries them', () => {
    const send = {
      id: 'e1',
      type: 'parley.message.send',
      partitionkey: 'r_1',
      data: { roomId: 'r_1' },
    };
    expect(eventLogFields(send)).toEqual({
      ceId: 'e1',
      ceType: 'parley.message.send',
      key: 'r_1',
      roomId: 'r_1',
    });
    const read = {
      id: 'e2',
      type: 'parley.notify.inbox.read',
      partitionkey: 'u_1',
      data: { actorId: 'u_1', all: true },
    };
    expect(eventLogFields(read)).toEqual({
      ceId: 'e2',
      ceType: 'parley.notify.inbox.read',
      key: 'u_1',
    });

    const { log, lines } = captured('message-write');
    log.child(eventLogFields(send)).info('stored');
    expect(lines[0]).toMatchObject({
      service: 'message-write',
      ceId: 'e1',
      ceType: 'parley.message.send',
      roomId: 'r_1',
    });
  });
});
