/** The Hub's live signals: unread counts, read receipts, inbox changes and coalesced presence. */
import { MemoryFanout, roomChannel, userChannel } from '@parley/eventing';
import { LIMITS, type Message, type ServerFrame } from '@parley/protocol';
import { createLogger } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { Hub } from './hub';
import { Session, type SocketLike } from './session';

class FakeSocket implements SocketLike {
  frames: ServerFrame[] = [];
  bufferedAmount = 0;
  send(data: string) {
    this.frames.push(JSON.parse(data) as ServerFrame);
  }
  close() {}
  of<T extends ServerFrame['type']>(type: T) {
    return this.frames.filter((f) => f.type === type) as Extract<ServerFrame, { type: T }>[];
  }
}

const limits = { perSecond: 10, burst: 10, strikes: 20 };
const tick = () => new Promise((r) => setTimeout(r, 0));
const message = (seq: number, senderId = 'u_a', roomId = 'r_1'): Message => ({
  id: `m_${roomId}_${seq}`,
  roomId,
  seq,
  senderId,
  body: 'hi',
  ts: seq,
  clientMsgId: `c${seq}`,
});

function setup(opts: { unreadCoalesceMs?: number } = {}) {
  const fanout = new MemoryFanout();
  const hub = new Hub(fanout, createLogger('test', 'silent'), opts);
  const connect = async (userId: string, rooms: string[], markers?: Record<string, number>) => {
    const socket = new FakeSocket();
    const s = new Session(`s_${userId}_${Math.random()}`, userId, 0, socket, limits);
    s.ready = true;
    await hub.add(s, rooms);
    if (markers) hub.mergeMarkers(userId, markers);
    return socket;
  };
  return { fanout, hub, connect };
}

describe('Hub: unread counts', () => {
  it('sends each member seq − marker after the message, and 0 to the sender (whose marker moves)', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: 3 });
    const a = await connect('u_a', ['r_1'], { r_1: 3 });
    const b = await connect('u_b', ['r_1'], { r_1: 1 });
    const c = await connect('u_c', ['r_1'], {});
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(4) });
    await tick();
    expect(a.of('unread')).toEqual([{ type: 'unread', roomId: 'r_1', count: 0 }]);
    expect(b.of('unread')).toEqual([{ type: 'unread', roomId: 'r_1', count: 3 }]);
    expect(c.of('unread')).toEqual([{ type: 'unread', roomId: 'r_1', count: 4 }]);
    // The message frame comes first.
    expect(b.frames.map((f) => f.type)).toEqual(['message', 'unread']);
    // The sender's marker moved to 4: b's next message counts 1 for a.
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(5, 'u_b') });
    await tick();
    expect(a.of('unread').at(-1)).toEqual({ type: 'unread', roomId: 'r_1', count: 1 });
    expect(b.of('unread').at(-1)).toEqual({ type: 'unread', roomId: 'r_1', count: 0 });
  });

  it('sends no unread frame to a user whose markers could not be loaded', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: 3 });
    const a = await connect('u_a', ['r_1']);
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(1, 'u_b') });
    await tick();
    expect(a.frames.map((f) => f.type)).toEqual(['message']);
  });

  it('a read-marker reaches every socket of the user as an unread frame, and counts from there', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: 3 });
    const tab1 = await connect('u_a', ['r_1'], { r_1: 0 });
    const tab2 = await connect('u_a', ['r_1']);
    await fanout.publish(userChannel('u_a'), {
      kind: 'read-marker',
      roomId: 'r_1',
      seq: 7,
      unread: 2,
    });
    await tick();
    for (const t of [tab1, tab2])
      expect(t.of('unread')).toEqual([{ type: 'unread', roomId: 'r_1', count: 2 }]);
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(10, 'u_b') });
    await tick();
    expect(tab2.of('unread').at(-1)).toEqual({ type: 'unread', roomId: 'r_1', count: 3 });
  });

  it('keeps the larger marker when a stored one loads after a newer read', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: 3 });
    const a = await connect('u_a', ['r_1'], {});
    await fanout.publish(userChannel('u_a'), {
      kind: 'read-marker',
      roomId: 'r_1',
      seq: 9,
      unread: 0,
    });
    await tick();
    hub.mergeMarkers('u_a', { r_1: 5 });
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(10, 'u_b') });
    await tick();
    expect(a.of('unread').at(-1)).toEqual({ type: 'unread', roomId: 'r_1', count: 1 });
  });
});

describe('Hub: unread counts against what arrived meanwhile', () => {
  it('a read-marker counted before a later message arrived here counts that message', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: 3 });
    const a = await connect('u_a', ['r_1'], { r_1: 9 });
    // Read up to 10 while lastSeq was 10 (unread 0), but message 11 reached this gateway first.
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(10, 'u_b') });
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(11, 'u_b') });
    await tick();
    await fanout.publish(userChannel('u_a'), {
      kind: 'read-marker',
      roomId: 'r_1',
      seq: 10,
      unread: 0,
    });
    await tick();
    expect(a.of('unread').at(-1)).toEqual({ type: 'unread', roomId: 'r_1', count: 1 });
  });

  it('a read on another device while this socket loads its markers is not lost', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: 3 });
    const a = await connect('u_a', ['r_1']); // markers not loaded yet
    await fanout.publish(userChannel('u_a'), {
      kind: 'read-marker',
      roomId: 'r_1',
      seq: 50,
      unread: 0,
    });
    await tick();
    hub.mergeMarkers('u_a', { r_1: 2 }); // the load answers with what was stored before
    expect(hub.markerOf('u_a', 'r_1')).toBe(50);
    await fanout.publish(roomChannel('r_1'), { kind: 'message', message: message(51, 'u_b') });
    await tick();
    expect(a.of('unread').at(-1)).toEqual({ type: 'unread', roomId: 'r_1', count: 1 });
  });

  it('treats a room of unknown size as large: no read receipts, presence or typing', async () => {
    const { hub, fanout, connect } = setup();
    const a = await connect('u_a', ['r_unknown']);
    await fanout.publish(roomChannel('r_unknown'), {
      kind: 'read',
      roomId: 'r_unknown',
      userId: 'u_b',
      seq: 1,
    });
    await fanout.publish(roomChannel('r_unknown'), {
      kind: 'typing',
      roomId: 'r_unknown',
      userId: 'u_b',
    });
    await fanout.publish(roomChannel('r_unknown'), {
      kind: 'presence',
      userId: 'u_b',
      online: true,
    });
    await tick();
    hub.flushPresence();
    expect(a.frames).toEqual([]);
  });
});

describe('Hub: unread frames in a large room', () => {
  it('sends every message frame before any unread frame, then coalesces the unread frames of a burst', async () => {
    const { hub, fanout, connect } = setup({ unreadCoalesceMs: 100 });
    hub.setRoomSizes({ r_big: LIMITS.liveSignalsRoomMaxMembers + 1 });
    const a = await connect('u_a', ['r_big'], { r_big: 0 });
    const b = await connect('u_b', ['r_big'], { r_big: 0 });
    await fanout.publish(roomChannel('r_big'), {
      kind: 'message',
      message: message(1, 'u_c', 'r_big'),
    });
    await new Promise((r) => setTimeout(r, 10));
    // The first unread pass goes at once, after the message frames…
    expect(a.frames.map((f) => f.type)).toEqual(['message', 'unread']);
    expect(a.of('unread')).toEqual([{ type: 'unread', roomId: 'r_big', count: 1 }]);
    // …then a burst within the interval is one pass with the last count.
    for (const seq of [2, 3, 4])
      await fanout.publish(roomChannel('r_big'), {
        kind: 'message',
        message: message(seq, 'u_c', 'r_big'),
      });
    await tick();
    expect(b.of('message')).toHaveLength(4);
    expect(b.of('unread')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    for (const s of [a, b])
      expect(s.of('unread')).toEqual([
        { type: 'unread', roomId: 'r_big', count: 1 },
        { type: 'unread', roomId: 'r_big', count: 4 },
      ]);
    hub.stop();
  });
});

describe('Hub: read receipts and inbox', () => {
  it('relays a read to the other members of a small room, never to the reader', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: 2 });
    const a = await connect('u_a', ['r_1']);
    const b = await connect('u_b', ['r_1']);
    await fanout.publish(roomChannel('r_1'), {
      kind: 'read',
      roomId: 'r_1',
      userId: 'u_a',
      seq: 4,
    });
    await tick();
    expect(a.of('read')).toEqual([]);
    expect(b.of('read')).toEqual([{ type: 'read', roomId: 'r_1', userId: 'u_a', seq: 4 }]);
  });

  it('relays no read receipt in a room over the live-signal size', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_big: LIMITS.liveSignalsRoomMaxMembers + 1 });
    const b = await connect('u_b', ['r_big']);
    await fanout.publish(roomChannel('r_big'), {
      kind: 'read',
      roomId: 'r_big',
      userId: 'u_a',
      seq: 4,
    });
    await tick();
    expect(b.frames).toEqual([]);
  });

  it('sends inbox changes to every socket of the user', async () => {
    const { fanout, connect } = setup();
    const a1 = await connect('u_a', []);
    const a2 = await connect('u_a', []);
    const notification = {
      kind: 'mention' as const,
      messageId: 'm_1',
      roomId: 'r_1',
      seq: 1,
      senderId: 'u_b',
      excerpt: '@a hi',
      ts: 1,
      read: false,
    };
    await fanout.publish(userChannel('u_a'), {
      kind: 'notification',
      unreadTotal: 1,
      notification,
    });
    await fanout.publish(userChannel('u_a'), { kind: 'notification', unreadTotal: 0 });
    await tick();
    for (const a of [a1, a2])
      expect(a.of('notification')).toEqual([
        { type: 'notification', unreadTotal: 1, notification },
        { type: 'notification', unreadTotal: 0 },
      ]);
  });
});

describe('Hub: presence', () => {
  it("gathers a room's changes until the flush and sends them as one frame, last state per user", async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: 10 });
    const a = await connect('u_a', ['r_1']);
    for (const [userId, online] of [
      ['u_b', true],
      ['u_c', true],
      ['u_b', false],
    ] as const)
      await fanout.publish(roomChannel('r_1'), { kind: 'presence', userId, online });
    await tick();
    expect(a.frames).toEqual([]);
    hub.flushPresence();
    expect(a.frames).toEqual([
      {
        type: 'presence',
        users: [
          { userId: 'u_b', online: false },
          { userId: 'u_c', online: true },
        ],
      },
    ]);
    hub.flushPresence();
    expect(a.frames).toHaveLength(1);
  });

  it('splits a large flush into frames of at most presenceFrameMaxUsers users', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_1: LIMITS.liveSignalsRoomMaxMembers });
    const a = await connect('u_a', ['r_1']);
    const n = LIMITS.presenceFrameMaxUsers + 5;
    for (let i = 0; i < n; i++)
      await fanout.publish(roomChannel('r_1'), {
        kind: 'presence',
        userId: `u_${i}`,
        online: true,
      });
    await tick();
    hub.flushPresence();
    const frames = a.of('presence');
    expect(frames.map((f) => f.users.length)).toEqual([LIMITS.presenceFrameMaxUsers, 5]);
  });

  it('sends no presence in a room over the live-signal size', async () => {
    const { hub, fanout, connect } = setup();
    hub.setRoomSizes({ r_big: 10_000 });
    const a = await connect('u_a', ['r_big']);
    await fanout.publish(roomChannel('r_big'), { kind: 'presence', userId: 'u_b', online: true });
    await tick();
    hub.flushPresence();
    expect(a.frames).toEqual([]);
  });
});
