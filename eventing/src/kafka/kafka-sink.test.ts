import { createLogger, ParleyError } from '@parley/runtime';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '../catalog';
import { type ParleyEvent, toHttpBinary } from '../cloudevent';
import type { EventSink } from '../event-sink';
import { MemoryBus } from '../memory-bus';
import { messageSend } from '../testing';
import { createKafkaSinkApp } from './kafka-sink';

const log = createLogger('kafka-sink-test', 'silent');

function appWith(sink: EventSink, topic?: string) {
  return createKafkaSinkApp({ sink, log, registry: new Registry(), ...(topic ? { topic } : {}) });
}

const post = (app: ReturnType<typeof appWith>, headers: Record<string, string>, body: string) =>
  app.request('/', { method: 'POST', headers, body });

describe('KafkaSink app', () => {
  it('accepts a binary-mode event with 202 once the sink stored it', async () => {
    const bus = new MemoryBus({ log });
    const event = messageSend('r_1');
    const { headers, body } = toHttpBinary(event);
    const res = await post(appWith(bus), headers, body);
    expect(res.status).toBe(202);
    expect(bus.retained(TOPICS.messageCommands)).toBe(1);
  });

  it('accepts a structured-mode event', async () => {
    const emitted: ParleyEvent[] = [];
    const event = messageSend('r_1');
    const res = await post(
      appWith({ emit: async (e) => void emitted.push(e) }),
      { 'content-type': 'application/cloudevents+json' },
      JSON.stringify(event),
    );
    expect(res.status).toBe(202);
    expect(emitted).toEqual([event]);
  });

  it('refuses an invalid event with 400 and a protocol error body, producing nothing', async () => {
    const emitted: ParleyEvent[] = [];
    const { headers } = toHttpBinary(messageSend('r_1'));
    const res = await post(
      appWith({ emit: async (e) => void emitted.push(e) }),
      headers,
      '{"roomId":"r_1"}',
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'bad_request' } });
    expect(emitted).toEqual([]);
  });

  it('answers 503 when Kafka fails, so the sender retries', async () => {
    const { headers, body } = toHttpBinary(messageSend('r_1'));
    const failing: EventSink = {
      emit: async () => {
        throw new ParleyError('unavailable', 'broker down');
      },
    };
    const res = await post(appWith(failing), headers, body);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
  });

  it('a sink pinned to one topic refuses events of another', async () => {
    const { headers, body } = toHttpBinary(messageSend('r_1'));
    const res = await post(appWith({ emit: async () => {} }, TOPICS.roomEvents), headers, body);
    expect(res.status).toBe(400);
  });

  it('serves the ops routes', async () => {
    const app = appWith({ emit: async () => {} });
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    expect(await (await app.request('/metrics')).text()).toContain('parley_sink_events_total');
  });
});
