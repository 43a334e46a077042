import {
  type AnyParleyEvent,
  cloudEventApp,
  createEvent,
  type EventSink,
  type Fanout,
  type FanoutPayload,
  type ParleyEvent,
  toHttpBinary,
} from '@parley/eventing';
import { MemoryMessageStore } from '@parley/message-store/memory';
import { MemoryRecentCache } from '@parley/message-store/recent-cache/memory';
import { createLogger, ParleyError } from '@parley/runtime';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMessageWrite } from './handler';
import { MemoryLiveMarks } from './live-marks';
import { messageWriteMetrics } from './metrics';

/** Records what was published; `failNext` makes the next publish fail like a Redis outage. */
class RecordingFanout implements Fanout {
  published: { channel: string; payload: FanoutPayload }[] = [];
  failNext = 0;
  async publish(channel: string, payload: FanoutPayload) {
    if (this.failNext > 0 && this.failNext--) throw new ParleyError('unavailable', 'redis down');
    this.published.push({ channel, payload });
  }
  async subscribe() {}
  async unsubscribe() {}
  async close() {}
}

class RecordingSink implements EventSink {
  emitted: ParleyEvent[] = [];
  failNext = 0;
  async emit(event: ParleyEvent) {
    if (this.failNext > 0 && this.failNext--) throw new ParleyError('unavailable', 'sink down');
    this.emitted.push(event);
  }
}

function setup() {
  const store = new MemoryMessageStore();
  const recent = new MemoryRecentCache();
  const fanout = new RecordingFanout();
  const sink = new RecordingSink();
  const members = new Set(['r_1:u_alice', 'r_1:u_bob']);
  const registry = new Registry();
  const log = createLogger('message-write-test', 'silent');
  const fn = createMessageWrite({
    store,
    recent,
    fanout,
    sink,
    log,
    live: new MemoryLiveMarks(),
    isMember: async (roomId, userId) => members.has(`${roomId}:${userId}`),
    metrics: messageWriteMetrics(registry),
    now: () => 1_700_000_000_500,
  });
  const app = cloudEventApp(fn, { log, registry });
  const deliver = (event: AnyParleyEvent | ParleyEvent) => {
    const { headers, body } = toHttpBinary(event as ParleyEvent);
    return app.request('/', { method: 'POST', headers, body });
  };
  return { store, recent, fanout, sink, registry, app, deliver, members };
}

const send = (
  data: { actorId?: string; roomId?: string; clientMsgId?: string; body?: string } = {},
) =>
  createEvent(
    'parley.message.send',
    {
      actorId: data.actorId ?? 'u_alice',
      roomId: data.roomId ?? 'r_1',
      clientMsgId: data.clientMsgId ?? 'c-1',
      body: data.body ?? 'hello 👋',
      acceptedTs: 1_700_000_000_000,
    },
    { source: 'gateway' },
  );

describe('message-write', () => {
  it('stores the message, caches it, fans it out to the room and emits parley.message.created', async () => {
    const t = setup();
    const command = send();
    const res = await t.deliver(command);
    expect(res.status).toBe(202);

    const { messages } = await t.store.page('r_1', { limit: 10 });
    expect(messages).toEqual([
      expect.objectContaining({
        roomId: 'r_1',
        seq: 1,
        senderId: 'u_alice',
        clientMsgId: 'c-1',
        body: 'hello 👋',
        ts: 1_700_000_000_500,
      }),
    ]);
    const stored = messages[0];
    expect(await t.recent.range('r_1', { limit: 10, lastSeq: 1 })).toEqual({
      messages: [stored],
      hasMore: false,
    });
    expect(t.fanout.published).toEqual([
      { channel: 'room:r_1', payload: { kind: 'message', message: stored } },
    ]);
    expect(t.sink.emitted).toHaveLength(1);
    expect(t.sink.emitted[0]).toMatchObject({
      type: 'parley.message.created',
      source: '/parley/message-write',
      causationid: command.id,
      partitionkey: 'r_1',
      data: { message: stored },
    });
    expect(
      await t.registry.getSingleMetricAsString('parley_message_store_latency_seconds'),
    ).toMatch(/parley_message_store_latency_seconds_count 1/);
  });

  it('a redelivered send stores one message, acks the sender and emits the fact again', async () => {
    const t = setup();
    const command = send();
    await t.deliver(command);
    const res = await t.deliver(command);
    expect(res.status).toBe(202);

    const { messages } = await t.store.page('r_1', { limit: 10 });
    expect(messages).toHaveLength(1);
    // The room saw it live the first time: the retry does not show it again.
    expect(t.fanout.published.map((p) => [p.channel, p.payload.kind])).toEqual([
      ['room:r_1', 'message'],
      ['user:u_alice', 'ack'],
    ]);
    expect(t.fanout.published[1]?.payload).toEqual({ kind: 'ack', message: messages[0] });
    expect(t.sink.emitted.map((e) => e.id)).toEqual([
      `${messages[0]?.id}.created`,
      `${messages[0]?.id}.created`,
    ]);
  });

  it('the same clientMsgId from another member is another message', async () => {
    const t = setup();
    await t.deliver(send({ actorId: 'u_alice', clientMsgId: 'same' }));
    await t.deliver(send({ actorId: 'u_bob', clientMsgId: 'same' }));
    expect(
      (await t.store.page('r_1', { limit: 10 })).messages.map((m) => [m.seq, m.senderId]),
    ).toEqual([
      [1, 'u_alice'],
      [2, 'u_bob'],
    ]);
  });

  it('refuses a non-member: send-rejected to the sender, nothing stored, nothing emitted, not dead-lettered', async () => {
    const t = setup();
    const res = await t.deliver(send({ actorId: 'u_mallory', clientMsgId: 'x-1' }));
    expect(res.status).toBe(202);
    expect(t.fanout.published).toEqual([
      {
        channel: 'user:u_mallory',
        payload: {
          kind: 'send-rejected',
          roomId: 'r_1',
          clientMsgId: 'x-1',
          code: 'not_member',
          message: expect.any(String),
        },
      },
    ]);
    expect(await t.store.lastSeq('r_1')).toBe(0);
    expect(t.sink.emitted).toEqual([]);
  });

  it('finishes a redelivered send stored before the sender left: ack and fact, no refusal', async () => {
    const t = setup();
    const command = send();
    t.sink.failNext = 1;
    expect((await t.deliver(command)).status).toBe(503);
    t.members.delete('r_1:u_alice');
    expect((await t.deliver(command)).status).toBe(202);
    expect(t.fanout.published.map((p) => [p.channel, p.payload.kind])).toEqual([
      ['room:r_1', 'message'],
      ['user:u_alice', 'ack'],
    ]);
    expect(t.sink.emitted).toHaveLength(1);
    expect(await t.store.lastSeq('r_1')).toBe(1);
  });

  it('answers 400 to an invalid event and stores nothing', async () => {
    const t = setup();
    const { headers } = toHttpBinary(send());
    const bad = await t.app.request('/', {
      method: 'POST',
      headers,
      body: JSON.stringify({
        actorId: 'u_alice',
        roomId: 'r_1',
        clientMsgId: 'c-1',
        body: '   ',
        acceptedTs: 1,
      }),
    });
    expect(bad.status).toBe(400);
    const noId = await t.app.request('/', {
      method: 'POST',
      headers: { ...headers, 'ce-id': '' },
      body: toHttpBinary(send()).body,
    });
    expect(noId.status).toBe(400);
    const other = await t.deliver(
      createEvent(
        'parley.room.member.leave',
        { actorId: 'u_alice', roomId: 'r_1' },
        { source: 'gateway' },
      ),
    );
    expect(other.status).toBe(400);
    expect(await t.store.lastSeq('r_1')).toBe(0);
    expect(t.fanout.published).toEqual([]);
    expect(t.sink.emitted).toEqual([]);
  });

  it('a failed emit is retried (503); the redelivery acks and emits without storing twice', async () => {
    const t = setup();
    const command = send();
    t.sink.failNext = 1;
    expect((await t.deliver(command)).status).toBe(503);
    expect((await t.deliver(command)).status).toBe(202);
    expect(await t.store.lastSeq('r_1')).toBe(1);
    expect(t.fanout.published.map((p) => p.payload.kind)).toEqual(['message', 'ack']);
    expect(t.sink.emitted).toHaveLength(1);
  });

  it('a failed fan-out is retried (503); the redelivery shows the message to the room live', async () => {
    const t = setup();
    const command = send();
    t.fanout.failNext = 1;
    expect((await t.deliver(command)).status).toBe(503);
    expect(t.sink.emitted).toEqual([]);
    expect((await t.deliver(command)).status).toBe(202);
    expect(await t.store.lastSeq('r_1')).toBe(1);
    // Nobody saw it live the first time: the redelivery publishes it to the room.
    expect(t.fanout.published.map((p) => [p.channel, p.payload.kind])).toEqual([
      ['room:r_1', 'message'],
      ['user:u_alice', 'ack'],
    ]);
    expect(t.sink.emitted).toHaveLength(1);
  });

  it('a redelivery after a crash between the commit and the publish shows the message to the room', async () => {
    const t = setup();
    const command = send();
    // The first attempt stored it and died before any fan-out (no mark was written).
    await t.store.append({
      id: 'm_crashed',
      roomId: 'r_1',
      senderId: 'u_alice',
      clientMsgId: (command.data as { clientMsgId: string }).clientMsgId,
      body: 'hello',
      ts: 1,
    });
    expect((await t.deliver(command)).status).toBe(202);
    expect(t.fanout.published.map((p) => [p.channel, p.payload.kind])).toEqual([
      ['room:r_1', 'message'],
      ['user:u_alice', 'ack'],
    ]);
  });

  it('a failed cache add does not stop delivery; the gap is counted', async () => {
    const t = setup();
    t.recent.add = async () => {
      throw new ParleyError('unavailable', 'redis down');
    };
    expect((await t.deliver(send())).status).toBe(202);
    expect(t.fanout.published.map((p) => p.payload.kind)).toEqual(['message']);
    expect(t.sink.emitted).toHaveLength(1);
    expect(
      await t.registry.getSingleMetricAsString('parley_recent_cache_add_failures_total'),
    ).toMatch(/parley_recent_cache_add_failures_total 1/);
  });

  it('a membership lookup that fails is retried (503) and stores nothing', async () => {
    const log = createLogger('t', 'silent');
    const store = new MemoryMessageStore();
    const fn = createMessageWrite({
      store,
      recent: new MemoryRecentCache(),
      fanout: new RecordingFanout(),
      sink: new RecordingSink(),
      log,
      isMember: async () => {
        throw new ParleyError('unavailable', 'rooms unreachable');
      },
    });
    const { headers, body } = toHttpBinary(send());
    const res = await cloudEventApp(fn, { log, registry: new Registry() }).request('/', {
      method: 'POST',
      headers,
      body,
    });
    expect(res.status).toBe(503);
    expect(await store.lastSeq('r_1')).toBe(0);
  });
});
