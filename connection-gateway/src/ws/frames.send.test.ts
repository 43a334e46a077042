/**
 * A `send` is handed to the producer in frame order but not awaited by the
 * socket's frame chain: a broker that is slow or restarting must not hold up
 * the socket's pings, syncs and later sends (issue 10, item 9: the gateway
 * stopped acknowledging anything after a broker restart).
 */
import type { ParleyEvent } from '@parley/eventing';
import { MemoryFanout } from '@parley/eventing';
import { LIMITS, type ServerFrame } from '@parley/protocol';
import { createLogger, ParleyError, type ServiceClient } from '@parley/runtime';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { UserBudgets } from '../budgets';
import { GatewayLimitsSchema } from '../config';
import { KeyedBuckets } from '../middleware/http-rate-limit';
import { type FrameDeps, handleFrame, SENDS_IN_FLIGHT_MAX } from './frames';
import { Session, type SocketLike } from './session';

class FakeSocket implements SocketLike {
  frames: ServerFrame[] = [];
  bufferedAmount = 0;
  send(data: string) {
    this.frames.push(JSON.parse(data) as ServerFrame);
  }
  close() {}
}

function setup() {
  const emitted: ParleyEvent[] = [];
  const stuck: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const deps: FrameDeps = {
    typing: new KeyedBuckets(1000 / LIMITS.typingThrottleMs, 1),
    // A producer whose sends never settle until the test says so.
    commands: {
      emit(e) {
        emitted.push(e);
        return new Promise<void>((resolve, reject) => stuck.push({ resolve, reject }));
      },
    },
    fanout: new MemoryFanout(),
    isMember: async () => true,
    messages: {
      getJson: async <T>() => ({ messages: [], hasMore: false }) as T,
      request: () => Promise.reject(new Error('not used')),
    } as ServiceClient,
    log: createLogger('test', 'silent'),
    refused: new Counter({
      name: 'r',
      help: 'h',
      labelNames: ['code'],
      registers: [new Registry()],
    }),
    budgets: new UserBudgets({
      ...GatewayLimitsSchema.parse({}),
      RATE_SEND_PER_SEC: 1_000_000,
      RATE_SEND_BURST: 1_000_000,
    }),
  };
  const ws = new FakeSocket();
  const s = new Session('s1', 'u_a', 0, ws, { perSecond: 1e6, burst: 1e6, strikes: 20 });
  s.ready = true;
  const frame = (f: unknown) => {
    const text = JSON.stringify(f);
    return handleFrame(s, text, Buffer.byteLength(text), deps);
  };
  return { ws, s, frame, emitted, stuck };
}

const send = (n: number) => ({
  type: 'send',
  roomId: 'r_1',
  clientMsgId: `c${n}`,
  body: `hi ${n}`,
});

describe('sends while Kafka does not answer', () => {
  it('hands sends over in order without blocking the frames behind them', async () => {
    const { ws, frame, emitted } = setup();
    // Each handleFrame settles although no emit has: the chain in server.ts moves on.
    await frame(send(1));
    await frame(send(2));
    await frame({ type: 'ping', ref: 'p' });
    expect(emitted.map((e) => (e.data as { clientMsgId: string }).clientMsgId)).toEqual([
      'c1',
      'c2',
    ]);
    expect(ws.frames).toContainEqual({ type: 'pong', ref: 'p' });
  });

  it('answers a send that could not be produced with an error carrying its clientMsgId', async () => {
    const { ws, frame, stuck, s } = setup();
    await frame(send(1));
    stuck[0]?.reject(new ParleyError('unavailable', 'Kafka refused the event'));
    await new Promise((r) => setImmediate(r));
    expect(ws.frames).toContainEqual(
      expect.objectContaining({ type: 'error', code: 'unavailable', ref: 'c1' }),
    );
    expect(s.sendsInFlight).toBe(0);
    // Pending was released: a late ack for c1 is not expected any more.
    expect(s.takePending('c1', 'r_1')).toBe(false);
  });

  it(`refuses past ${SENDS_IN_FLIGHT_MAX} sends in flight with rate_limited, without a strike`, async () => {
    const { ws, frame, s } = setup();
    for (let i = 0; i < SENDS_IN_FLIGHT_MAX; i++) await frame(send(i));
    await frame(send(SENDS_IN_FLIGHT_MAX));
    expect(ws.frames.at(-1)).toMatchObject({
      type: 'error',
      code: 'rate_limited',
      ref: `c${SENDS_IN_FLIGHT_MAX}`,
    });
    expect(s.closed).toBe(false);
  });
});

describe('resends of a send still on its way', () => {
  it('are absorbed instead of produced again (no retry storm on the partition)', async () => {
    const { frame, emitted, ws } = setup();
    await frame(send(1));
    await frame(send(1));
    await frame(send(1));
    expect(emitted).toHaveLength(1);
    expect(ws.frames.filter((f) => f.type === 'error')).toEqual([]);
  });

  it('are produced again once the first attempt failed', async () => {
    const { frame, emitted, stuck } = setup();
    await frame(send(1));
    stuck[0]?.reject(new ParleyError('unavailable', 'Kafka refused the event'));
    await new Promise((r) => setImmediate(r));
    await frame(send(1));
    expect(emitted).toHaveLength(2);
  });
});
