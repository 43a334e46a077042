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
    // sentAt: the send's acceptance at its gateway (acceptedTs), for the send → deliver latency.
    expect(t.fanout.published).toEqual([
      {
        channel: 'room:r_1',
        payload: { kind: 'message', message: stored, sentAt: '2023-11-14T22:13:20.000Z' },
      },
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

describe('message-write: concurrent events share a group commit', () => {
  /** Records the batches the handler hands to appendMany. */
  function recordBatches(store: MemoryMessageStore) {
    const batches: string[][] = [];
    const appendMany = store.appendMany.bind(store);
    store.appendMany = async (inputs) => {
      batches.push(inputs.map((i) => `${i.senderId}:${i.clientMsgId}`));
      return appendMany(inputs);
    };
    return batches;
  }

  it('N concurrent events: one appendMany with N inputs, seqs in arrival order, each fanned out and emitted', async () => {
    const t = setup();
    const batches = recordBatches(t.store);
    const commands = [0, 1, 2, 3, 4].map((i) =>
      send({ actorId: i % 2 ? 'u_bob' : 'u_alice', clientMsgId: `c-${i}` }),
    );
    const statuses = await Promise.all(commands.map(async (c) => (await t.deliver(c)).status));
    expect(statuses).toEqual([202, 202, 202, 202, 202]);
    expect(batches).toEqual([
      ['u_alice:c-0', 'u_bob:c-1', 'u_alice:c-2', 'u_bob:c-3', 'u_alice:c-4'],
    ]);
    const { messages } = await t.store.page('r_1', { limit: 10 });
    expect(messages.map((m) => `${m.seq}:${m.clientMsgId}`)).toEqual([
      '1:c-0',
      '2:c-1',
      '3:c-2',
      '4:c-3',
      '5:c-4',
    ]);
    // The room sees them live in seq order; each fact is caused by its own command.
    expect(t.fanout.published).toEqual(
      messages.map((message) => ({
        channel: 'room:r_1',
        payload: { kind: 'message', message, sentAt: '2023-11-14T22:13:20.000Z' },
      })),
    );
    expect(t.sink.emitted.map((e) => [e.id, e.causationid])).toEqual(
      messages.map((m, i) => [`${m.id}.created`, commands[i]?.id]),
    );
    expect(await t.recent.range('r_1', { limit: 10, lastSeq: 5 })).toEqual({
      messages,
      hasMore: false,
    });
    const sizes = await t.registry.getSingleMetricAsString('parley_message_commit_batch_size');
    expect(sizes).toMatch(/parley_message_commit_batch_size_count 1$/m);
    expect(sizes).toMatch(/parley_message_commit_batch_size_sum 5$/m);
  });

  it('each event answers only after its own fact is emitted, whatever its batch mates do', async () => {
    const t = setup();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const emit = t.sink.emit.bind(t.sink);
    t.sink.emit = async (event) => {
      if ((event.data as { message: { clientMsgId: string } }).message.clientMsgId === 'slow')
        await held;
      return emit(event);
    };
    const slow = Promise.resolve(t.deliver(send({ clientMsgId: 'slow' })));
    let slowAnswered = false;
    void slow.then(() => {
      slowAnswered = true;
    });
    const fast = await Promise.all([
      t.deliver(send({ clientMsgId: 'fast-1' })),
      t.deliver(send({ actorId: 'u_bob', clientMsgId: 'fast-2' })),
    ]);
    expect(fast.map((r) => r.status)).toEqual([202, 202]);
    // Stored and shown with the others, but not answered: its fact is not out yet.
    expect(await t.store.lastSeq('r_1')).toBe(3);
    expect(t.fanout.published).toHaveLength(3);
    expect(slowAnswered).toBe(false);
    expect(t.sink.emitted).toHaveLength(2);
    release();
    expect((await slow).status).toBe(202);
    expect(t.sink.emitted).toHaveLength(3);
  });

  it('a failed commit fails every event of its batch (503): nothing shown or emitted; the redelivery stores each once', async () => {
    const t = setup();
    const appendMany = t.store.appendMany.bind(t.store);
    let failures = 1;
    t.store.appendMany = async (inputs) => {
      if (failures-- > 0) throw new ParleyError('unavailable', 'both shards down');
      return appendMany(inputs);
    };
    const commands = [0, 1, 2].map((i) => send({ clientMsgId: `c-${i}` }));
    const first = await Promise.all(commands.map(async (c) => (await t.deliver(c)).status));
    expect(first).toEqual([503, 503, 503]);
    expect(await t.store.lastSeq('r_1')).toBe(0);
    expect(t.fanout.published).toEqual([]);
    expect(t.sink.emitted).toEqual([]);

    const again = await Promise.all(commands.map(async (c) => (await t.deliver(c)).status));
    expect(again).toEqual([202, 202, 202]);
    const { messages } = await t.store.page('r_1', { limit: 10 });
    expect(messages.map((m) => `${m.seq}:${m.clientMsgId}`)).toEqual(['1:c-0', '2:c-1', '3:c-2']);
    expect(t.fanout.published.map((p) => p.payload.kind)).toEqual([
      'message',
      'message',
      'message',
    ]);
    expect(t.sink.emitted).toHaveLength(3);
  });

  it('a send refused on its own fails only its event; its batch mates are stored', async () => {
    const t = setup();
    const appendMany = t.store.appendMany.bind(t.store);
    t.store.appendMany = async (inputs) => {
      const outcomes = await appendMany(inputs.filter((i) => i.clientMsgId !== 'bad'));
      return inputs.map((i) =>
        i.clientMsgId === 'bad'
          ? { status: 'rejected', reason: new ParleyError('conflict', 'message id taken') }
          : (outcomes.shift() as (typeof outcomes)[number]),
      );
    };
    const statuses = await Promise.all(
      ['ok-1', 'bad', 'ok-2'].map(
        async (id) => (await t.deliver(send({ clientMsgId: id }))).status,
      ),
    );
    expect(statuses).toEqual([202, 400, 202]);
    expect((await t.store.page('r_1', { limit: 10 })).messages.map((m) => m.clientMsgId)).toEqual([
      'ok-1',
      'ok-2',
    ]);
    expect(t.sink.emitted).toHaveLength(2);
  });

  it('a batch mixing a new send, a redelivery and a non-member: each takes its own path', async () => {
    const t = setup();
    const batches = recordBatches(t.store);
    const retried = send({ actorId: 'u_bob', clientMsgId: 'b-1' });
    expect((await t.deliver(retried)).status).toBe(202);
    t.fanout.published = [];
    const statuses = await Promise.all(
      [
        send({ clientMsgId: 'a-1' }),
        retried,
        send({ actorId: 'u_mallory', clientMsgId: 'x-1' }),
        send({ clientMsgId: 'a-2' }),
      ].map(async (c) => (await t.deliver(c)).status),
    );
    expect(statuses).toEqual([202, 202, 202, 202]);
    // The refusal never reaches the store; the redelivery rides along and stores nothing.
    expect(batches).toEqual([['u_bob:b-1'], ['u_alice:a-1', 'u_bob:b-1', 'u_alice:a-2']]);
    expect(
      (await t.store.page('r_1', { limit: 10 })).messages.map((m) => `${m.seq}:${m.clientMsgId}`),
    ).toEqual(['1:b-1', '2:a-1', '3:a-2']);
    expect(t.fanout.published.map((p) => `${p.channel} ${p.payload.kind}`).sort()).toEqual([
      'room:r_1 message',
      'room:r_1 message',
      'user:u_bob ack',
      'user:u_mallory send-rejected',
    ]);
    expect(
      t.sink.emitted.map((e) => (e.data as { message: { seq: number } }).message.seq).sort(),
    ).toEqual([1, 1, 2, 3]);
  });
});
