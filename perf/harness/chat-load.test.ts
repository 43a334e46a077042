import { describe, expect, it } from 'vitest';
import { sentAtOf } from '../scenarios/types';
import { ChatLoad, type LoadWs } from './chat-load';
import type { LoadRoom } from './setup';

type Fault = 'none' | 'drop-delivery' | 'double-ack' | 'same-seq' | 'double-delivery' | 'refuse';

/**
 * Sockets wired to a fake server that stores each send with the room's next seq, acks it to the
 * sender and shows it to the other members, the way the gateway does; `fault` breaks one message.
 */
function fakeNet(rooms: LoadRoom[], fault: Fault) {
  const handlers: ((data: Buffer) => void)[] = [];
  const seqs = rooms.map((r) => r.baseline);
  const roomOf = new Map(rooms.map((r, i) => [r.id, i]));
  let count = 0;
  const bodies: string[] = [];
  const emit = (m: number, frame: unknown) =>
    queueMicrotask(() => handlers[m]?.(Buffer.from(JSON.stringify(frame))));
  const sockets: LoadWs[] = rooms
    .flatMap((r) => r.members)
    .sort((a, b) => a - b)
    .map((member) => ({
      send(data: string) {
        const f = JSON.parse(data) as { roomId: string; clientMsgId: string; body: string };
        bodies.push(f.body);
        const ri = roomOf.get(f.roomId) as number;
        const n = ++count;
        if (fault === 'refuse' && n === 2) {
          emit(member, { type: 'error', code: 'rate_limited', ref: f.clientMsgId });
          return;
        }
        const seq = fault === 'same-seq' && n === 3 ? (seqs[ri] as number) : ++(seqs[ri] as number);
        emit(member, {
          type: 'ack',
          clientMsgId: f.clientMsgId,
          roomId: f.roomId,
          id: `m${n}`,
          seq,
          ts: 0,
        });
        if (fault === 'double-ack' && n === 2)
          emit(member, {
            type: 'ack',
            clientMsgId: f.clientMsgId,
            roomId: f.roomId,
            id: `m${n}`,
            seq,
            ts: 0,
          });
        const others = (rooms[ri] as LoadRoom).members.filter((x) => x !== member);
        others.forEach((o, k) => {
          if (fault === 'drop-delivery' && n === 4 && k === 0) return;
          const frame = {
            type: 'message',
            message: {
              id: `m${n}`,
              roomId: f.roomId,
              seq,
              senderId: 'u',
              body: f.body,
              ts: 0,
              clientMsgId: f.clientMsgId,
            },
          };
          emit(o, { type: 'unread', roomId: f.roomId, count: 1 });
          emit(o, frame);
          if (fault === 'double-delivery' && n === 5 && k === 0) emit(o, frame);
        });
      },
      on(event: string, fn: (arg: never) => void) {
        if (event === 'message') handlers[member] = fn as (data: Buffer) => void;
        return this;
      },
      close() {},
    }));
  return { sockets, bodies };
}

const ROOMS: LoadRoom[] = [
  { id: 'r0', members: [0, 2, 4], baseline: 7 },
  { id: 'r1', members: [1, 3, 5], baseline: 0 },
];

async function runWith(fault: Fault) {
  const { sockets, bodies } = fakeNet(ROOMS, fault);
  const load = new ChatLoad(ROOMS, sockets, { bodyChars: 40, tag: 't1-' });
  const phase = await load.run('measure', 1000, 0.02);
  await load.settle(phase, 500);
  return { load, phase, bodies };
}

describe('ChatLoad against a fake server', () => {
  it('counts every send stored and delivered, and verifies a clean run', async () => {
    const { load, phase, bodies } = await runWith('none');
    const s = load.stats(phase);
    expect(s.sent).toBe(20);
    expect(s.stored).toBe(20);
    expect(s.deliveriesExpected).toBe(40);
    expect(s.deliveries).toBe(40);
    expect(s.ack.count).toBe(20);
    expect(s.deliver.count).toBe(40);
    const v = load.verify();
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(load.roomLastSeqs()).toEqual([
      { id: 'r0', last: 17, stored: 10 },
      { id: 'r1', last: 10, stored: 10 },
    ]);
    // Bodies carry their send time and the scenario's length.
    for (const b of bodies) {
      expect(b).toHaveLength(40);
      expect(sentAtOf(b)).toBeTypeOf('number');
    }
  });

  it('fails a run where a member never saw a message', async () => {
    const { load } = await runWith('drop-delivery');
    const v = load.verify();
    expect(v.ok).toBe(false);
    expect(v.missingDeliveries).toBe(1);
  });

  it('fails a run where a member saw one twice', async () => {
    const v = (await runWith('double-delivery')).load.verify();
    expect(v.ok).toBe(false);
    expect(v.duplicateDeliveries).toBe(1);
  });

  it('fails a run where a send was acked twice', async () => {
    const v = (await runWith('double-ack')).load.verify();
    expect(v.ok).toBe(false);
    expect(v.duplicateAcks).toBe(1);
  });

  it('fails a run where two sends got one seq', async () => {
    const v = (await runWith('same-seq')).load.verify();
    expect(v.ok).toBe(false);
    expect(v.seqCollisions).toBe(1);
  });

  it('counts a refusal as refused, not lost', async () => {
    const { load, phase } = await runWith('refuse');
    const s = load.stats(phase);
    expect([s.stored, s.refused, s.unacked]).toEqual([19, 1, 0]);
    expect(s.refusalsByCode).toEqual({ rate_limited: 1 });
    expect(load.verify().ok).toBe(true);
  });
});
