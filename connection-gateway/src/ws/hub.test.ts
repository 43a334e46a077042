import { MemoryFanout, roomChannel, userChannel } from '@parley/eventing';
import type { Message, ServerFrame } from '@parley/protocol';
import { createLogger } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { Hub } from './hub';
import { Session, type SocketLike } from './session';

class FakeSocket implements SocketLike {
  frames: ServerFrame[] = [];
  closedWith: number | undefined;
  bufferedAmount = 0;
  send(data: string) {
    this.frames.push(JSON.parse(data) as ServerFrame);
  }
  close(code: number) {
    this.closedWith = code;
  }
}

const limits = { perSecond: 10, burst: 10, strikes: 20 };
const tick = () => new Promise((r) => setTimeout(r, 0));
const message = (over: Partial<Message> = {}): Message => ({
  id: 'm_1',
  roomId: 'r_1',
  seq: 1,
  senderId: 'u_a',
  body: 'hi',
  ts: 1,
  clientMsgId: 'c1',
  ...over,
});

function setup() {
  const fanout = new MemoryFanout();
  const hub = new Hub(fanout, createLogger('test', 'silent'));
  const session = (userId: string) => {
    const socket = new FakeSocket();
    const s = new Session(`s_${userId}_${Math.random()}`, userId, 0, socket, limits);
    s.ready = true;
    return { socket, session: s };
  };
  return { fanout, hub, session };
}

describe('Hub', () => {
  it('acks the sending socket, and delivers the message to every other socket of the room', async () => {
    const { fanout, hub, session } = setup();
    const a1 = session('u_a');
    const a2 = session('u_a');
    const b = session('u_b');
    for (const s of [a1, a2, b]) await hub.add(s.session, ['r_1']);
    a1.session.addPending('c1', 'r_1');
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message() });
    await tick();
    expect(a1.socket.frames).toEqual([
      { type: 'ack', clientMsgId: 'c1', roomId: 'r_1', id: 'm_1', seq: 1, ts: 1 },
    ]);
    expect(a2.socket.frames).toEqual([{ type: 'message', message: message() }]);
    expect(b.socket.frames).toEqual([{ type: 'message', message: message() }]);
  });

  it('acks a retried clientMsgId from the user channel only where it is pending', async () => {
    const { fanout, hub, session } = setup();
    const a1 = session('u_a');
    const a2 = session('u_a');
    for (const s of [a1, a2]) await hub.add(s.session, ['r_1']);
    a2.session.addPending('c1', 'r_1');
    await fanout.publish(userChannel('u_a'), { kind: 'ack', message: message() });
    await tick();
    expect(a1.socket.frames).toEqual([]);
    expect(a2.socket.frames).toEqual([
      { type: 'ack', clientMsgId: 'c1', roomId: 'r_1', id: 'm_1', seq: 1, ts: 1 },
    ]);
  });

  it('follows a room the user joins, and stops after they leave', async () => {
    const { fanout, hub, session } = setup();
    const b = session('u_b');
    await hub.add(b.session, []);
    const room = { id: 'r_2', name: 'new', kind: 'group' as const, memberCount: 2, lastSeq: 0 };
    await fanout.publish(userChannel('u_b'), { kind: 'room', event: 'joined', room });
    await tick();
    await tick();
    expect(b.socket.frames).toEqual([{ type: 'room', event: 'joined', room }]);
    await fanout.publish(roomChannel('r_2'), {
      kind: 'message',
      message: message({ roomId: 'r_2' }),
    });
    await tick();
    expect(b.socket.frames).toHaveLength(2);
    await fanout.publish(userChannel('u_b'), { kind: 'room', event: 'left', room });
    await tick();
    await tick();
    await fanout.publish(roomChannel('r_2'), {
      kind: 'message',
      message: message({ roomId: 'r_2', seq: 2 }),
    });
    await tick();
    expect(b.socket.frames.map((f) => f.type)).toEqual(['room', 'message', 'room']);
  });

  it('records a room event that arrives while a session is still being set up, and sends it no frame', async () => {
    const { fanout, hub, session } = setup();
    const b = session('u_b');
    b.session.ready = false;
    await hub.add(b.session, []);
    const room = { id: 'r_3', name: 'x', kind: 'group' as const, memberCount: 1, lastSeq: 0 };
    await fanout.publish(userChannel('u_b'), { kind: 'room', event: 'left', room });
    await tick();
    await tick();
    expect(b.session.roomEventsDuringSetup.get('r_3')).toBe('left');
    expect(b.socket.frames).toEqual([]);
  });

  it('never re-adds a closed session to a room', async () => {
    const { fanout, hub, session } = setup();
    const a = session('u_a');
    await hub.add(a.session, []);
    a.session.closed = true;
    await hub.joinRoom('u_a', 'r_9');
    await hub.remove(a.session);
    await fanout.publish(roomChannel('r_9'), {
      kind: 'message',
      message: message({ roomId: 'r_9' }),
    });
    await tick();
    expect(a.socket.frames).toEqual([]);
    expect(a.session.rooms.size).toBe(0);
  });

  it('unsubscribes from a channel when its last local session goes', async () => {
    const { fanout, hub, session } = setup();
    const a = session('u_a');
    await hub.add(a.session, ['r_1']);
    await hub.remove(a.session);
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message() });
    await tick();
    expect(a.socket.frames).toEqual([]);
    expect(hub.sessionCount).toBe(0);
  });

  it('relays typing to the other members only', async () => {
    const { fanout, hub, session } = setup();
    const a = session('u_a');
    const b = session('u_b');
    for (const s of [a, b]) await hub.add(s.session, ['r_1']);
    hub.setRoomSizes({ r_1: 2 });
    await fanout.publish(roomChannel('r_1'), { kind: 'typing', roomId: 'r_1', userId: 'u_a' });
    await tick();
    expect(a.socket.frames).toEqual([]);
    expect(b.socket.frames).toEqual([{ type: 'typing', roomId: 'r_1', userId: 'u_a' }]);
  });
});
