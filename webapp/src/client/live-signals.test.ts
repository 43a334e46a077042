/**
 * The chat store and the live signals of docs/notifications.md: unread counts and `read`
 * frames, typing, presence, read receipts and the mentions inbox.
 */
import type { Message, Notification, Room, User } from '@parley/protocol/model';
import { describe, expect, it } from 'vitest';
import { ChatStore, READ_DEBOUNCE_MS, TYPING_SEND_INTERVAL_MS } from './chat-store';
import { SessionStore } from './session';
import {
  defined,
  fakeFetch,
  fakeToken,
  fakeWebSocket,
  ManualClock,
  memoryStorage,
} from './testing';

const me: User = { id: 'u_me', username: 'mia', displayName: 'Mia' };
const bob: User = { id: 'u_bob', username: 'bob', displayName: 'Bob' };
const group: Room = { id: 'r_g', name: 'General', kind: 'group', memberCount: 2, lastSeq: 2 };
const other: Room = { id: 'r_o', name: 'Other', kind: 'group', memberCount: 2, lastSeq: 5 };
const dm: Room = { id: 'r_dm', name: 'Bob & Mia', kind: 'dm', memberCount: 2, lastSeq: 0 };

const msg = (roomId: string, seq: number, over: Partial<Message> = {}): Message => ({
  id: `m_${roomId}_${seq}`,
  roomId,
  seq,
  senderId: bob.id,
  body: `hi ${seq}`,
  ts: 1_700_000_000_000 + seq,
  clientMsgId: `c_${roomId}_${seq}`,
  ...over,
});

const mention = (roomId: string, seq: number, over: Partial<Notification> = {}): Notification => ({
  kind: 'mention',
  messageId: `m_${roomId}_${seq}`,
  roomId,
  seq,
  senderId: bob.id,
  excerpt: `@mia look ${seq}`,
  ts: 1_700_000_000_000 + seq,
  read: false,
  ...over,
});

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
};

const history = (roomId: string, last: number) => () => ({
  status: 200,
  body: {
    messages: Array.from({ length: last }, (_, i) => msg(roomId, i + 1)),
    hasMore: false,
  },
});

function setup(opts: { routes?: Parameters<typeof fakeFetch>[0]; inbox?: Notification[] } = {}) {
  const clock = new ManualClock();
  const storage = memoryStorage();
  new SessionStore(storage).save({ token: fakeToken(clock.time + 3_600_000), user: me });
  const unread: Record<string, number> = { [group.id]: 0, [other.id]: 3, [dm.id]: 0 };
  const inbox = opts.inbox ?? [];
  const api = fakeFetch({
    'GET /rooms': () => ({
      status: 200,
      body: {
        rooms: [group, other, dm].map((r) => ({
          ...r,
          unread: unread[r.id],
          ...(r.lastSeq > 0 ? { lastMessage: msg(r.id, r.lastSeq) } : {}),
        })),
      },
    }),
    'GET /rooms/r_g': () => ({
      status: 200,
      body: {
        room: group,
        members: [
          { ...me, online: true, readSeq: 2 },
          { ...bob, online: false, readSeq: 1 },
        ],
      },
    }),
    'GET /rooms/r_o': () => ({
      status: 200,
      body: { room: other, members: [me, bob].map((u) => ({ ...u, online: false })) },
    }),
    'GET /rooms/r_dm': () => ({
      status: 200,
      body: {
        room: dm,
        members: [
          { ...bob, online: false, readSeq: 0 },
          { ...me, online: true, readSeq: 0 },
        ],
      },
    }),
    'GET /rooms/r_g/messages': history(group.id, 2),
    'GET /rooms/r_o/messages': history(other.id, 5),
    'GET /rooms/r_dm/messages': () => ({ status: 200, body: { messages: [], hasMore: false } }),
    'POST /rooms/r_g/read': (req) => ({
      status: 200,
      body: { roomId: group.id, seq: (req.body as { seq: number }).seq, unread: 0 },
    }),
    'GET /notifications': (req) => {
      const cursor = new URL(req.path, 'http://parley.test').searchParams.get('cursor');
      const page = cursor ? inbox.slice(2) : inbox.slice(0, 2);
      return {
        status: 200,
        body: {
          notifications: page,
          unreadTotal: inbox.filter((n) => !n.read).length,
          ...(!cursor && inbox.length > 2 ? { nextCursor: '1700000000002.m_x' } : {}),
        },
      };
    },
    'POST /notifications/read': () => ({ status: 200, body: { unreadTotal: 0 } }),
    ...opts.routes,
  });
  const ws = fakeWebSocket();
  let n = 0;
  const store = new ChatStore({
    storage,
    wsUrl: 'ws://parley.test/ws',
    fetch: api.fetch,
    WebSocket: ws.WebSocket,
    timers: clock,
    now: clock.now,
    random: () => 0.5,
    newClientMsgId: () => `cm_${++n}`,
  });
  const socket = () => defined(ws.sockets.at(-1));
  const state = () => store.getState();
  const room = (id: string) => defined(state().rooms.find((r) => r.id === id));
  const reads = () => ws.sockets.flatMap((s) => s.framesOf('read'));
  return { store, clock, api, ws, socket, state, room, reads };
}

/** Signed in and connected; `open` (if any) is the open room, its history loaded. */
async function started(open: string | null, opts: Parameters<typeof setup>[0] = {}) {
  const t = setup(opts);
  t.store.init();
  t.socket().accept();
  await settle();
  if (open) {
    t.store.selectRoom(open);
    await settle();
  }
  return t;
}

describe('unread counts', () => {
  it('the room list carries the server’s counts; a message elsewhere counts up until the unread frame says the number', async () => {
    const t = await started(group.id);
    expect(t.room(other.id).unread).toBe(3);
    t.socket().push({ type: 'message', message: msg(other.id, 6) });
    expect(t.room(other.id).unread).toBe(4);
    t.socket().push({ type: 'unread', roomId: other.id, count: 2 });
    expect(t.room(other.id).unread).toBe(2);
    t.socket().push({ type: 'message', message: msg(other.id, 7) });
    // The same message again (a redelivery) is not a new one.
    t.socket().push({ type: 'message', message: msg(other.id, 7) });
    expect(t.room(other.id).unread).toBe(3);
    expect(t.reads()).toEqual([]);
  });

  it('the open room in a seen window: one read for the newest message, 500 ms after a burst', async () => {
    const t = await started(group.id);
    t.clock.advance(5_000);
    // Read up to 2 already (the list said 0 unread at lastSeq 2): nothing to send.
    expect(t.reads()).toEqual([]);
    for (const seq of [3, 4, 5]) {
      t.socket().push({ type: 'message', message: msg(group.id, seq) });
      t.socket().push({ type: 'unread', roomId: group.id, count: seq - 2 });
      t.clock.advance(100);
    }
    t.clock.advance(READ_DEBOUNCE_MS - 301);
    expect(t.reads()).toEqual([]);
    t.clock.advance(1);
    expect(t.reads()).toEqual([{ type: 'read', roomId: group.id, seq: 5 }]);
    expect(t.room(group.id).unread).toBe(0);
    t.socket().push({ type: 'unread', roomId: group.id, count: 0 });
    t.clock.advance(5_000);
    expect(t.reads()).toHaveLength(1);
  });

  it('opening a room with unread messages reads it up to its last message', async () => {
    const t = await started(group.id);
    t.store.selectRoom(other.id);
    await settle();
    t.clock.advance(READ_DEBOUNCE_MS);
    expect(t.reads()).toEqual([{ type: 'read', roomId: other.id, seq: 5 }]);
    expect(t.room(other.id).unread).toBe(0);
  });

  it('a room without messages is never read', async () => {
    const t = await started(dm.id);
    t.clock.advance(5_000);
    expect(t.reads()).toEqual([]);
  });

  it('while the window is not seen the open room counts up; seeing it again reads it', async () => {
    const t = await started(group.id);
    t.store.setAttention(false);
    t.socket().push({ type: 'message', message: msg(group.id, 3) });
    expect(t.room(group.id).unread).toBe(1);
    t.clock.advance(5_000);
    expect(t.reads()).toEqual([]);
    t.store.setAttention(true);
    t.clock.advance(READ_DEBOUNCE_MS);
    expect(t.reads()).toEqual([{ type: 'read', roomId: group.id, seq: 3 }]);
    expect(t.room(group.id).unread).toBe(0);
  });

  it('leaving a room before its read went sends that read at once', async () => {
    const t = await started(group.id);
    t.socket().push({ type: 'message', message: msg(group.id, 3) });
    t.store.selectRoom(dm.id);
    expect(t.reads()).toEqual([{ type: 'read', roomId: group.id, seq: 3 }]);
  });

  it('without an open socket the read goes over HTTP, and its answer sets the count', async () => {
    const t = await started(group.id);
    t.store.setAttention(false);
    t.socket().push({ type: 'message', message: msg(group.id, 3) });
    t.socket().drop(1006);
    t.store.setAttention(true);
    t.clock.advance(READ_DEBOUNCE_MS);
    await settle();
    const posted = t.api.calls.filter((c) => c.method === 'POST' && c.path === '/rooms/r_g/read');
    expect(posted.map((c) => c.body)).toEqual([{ seq: 3 }]);
    expect(t.reads()).toEqual([]);
    expect(t.room(group.id).unread).toBe(0);
  });

  it('my own message from another device: nothing unread, nothing to read', async () => {
    const t = await started(group.id);
    t.socket().push({ type: 'message', message: msg(other.id, 6, { senderId: me.id }) });
    expect(t.room(other.id).unread).toBe(0);
    t.store.selectRoom(other.id);
    await settle();
    t.clock.advance(5_000);
    expect(t.reads()).toEqual([]);
  });
});

describe('typing', () => {
  it('shows who types for 6 s after their last frame; their message ends it at once', async () => {
    const t = await started(group.id);
    t.socket().push({ type: 'typing', roomId: group.id, userId: bob.id });
    expect(t.state().typing[group.id]).toEqual([bob.id]);
    t.clock.advance(4_000);
    t.socket().push({ type: 'typing', roomId: group.id, userId: bob.id });
    t.clock.advance(5_999);
    expect(t.state().typing[group.id]).toEqual([bob.id]);
    t.clock.advance(1);
    expect(t.state().typing[group.id]).toBeUndefined();

    t.socket().push({ type: 'typing', roomId: group.id, userId: bob.id });
    t.socket().push({ type: 'message', message: msg(group.id, 3) });
    expect(t.state().typing[group.id]).toBeUndefined();
    // The timer of the indicator that ended does not touch a newer one.
    t.clock.advance(3_000);
    t.socket().push({ type: 'typing', roomId: group.id, userId: bob.id });
    t.clock.advance(3_001);
    expect(t.state().typing[group.id]).toEqual([bob.id]);
  });

  it('keeps people in the order they started; ignores me and rooms it does not know', async () => {
    const t = await started(group.id);
    t.socket().push({ type: 'typing', roomId: group.id, userId: 'u_cyd' });
    t.socket().push({ type: 'typing', roomId: group.id, userId: bob.id });
    t.socket().push({ type: 'typing', roomId: group.id, userId: 'u_cyd' });
    t.socket().push({ type: 'typing', roomId: group.id, userId: me.id });
    t.socket().push({ type: 'typing', roomId: 'r_unknown', userId: bob.id });
    expect(t.state().typing).toEqual({ [group.id]: ['u_cyd', bob.id] });
  });

  it('sends typing at most every 3 s per room, never for a blank composer; a send lets the next say so at once', async () => {
    const t = await started(group.id);
    const typed = () => t.socket().framesOf('typing');
    t.store.typing(group.id, '   ');
    expect(typed()).toEqual([]);
    t.store.typing(group.id, 'h');
    t.clock.advance(1_000);
    t.store.typing(group.id, 'he');
    expect(typed()).toEqual([{ type: 'typing', roomId: group.id }]);
    t.clock.advance(TYPING_SEND_INTERVAL_MS - 1_000);
    t.store.typing(group.id, 'hel');
    t.store.typing(dm.id, 'x');
    expect(typed()).toEqual([
      { type: 'typing', roomId: group.id },
      { type: 'typing', roomId: group.id },
      { type: 'typing', roomId: dm.id },
    ]);
    t.store.send(group.id, 'hello');
    t.store.typing(group.id, 'n');
    expect(typed()).toHaveLength(4);
  });
});

describe('presence and read receipts', () => {
  it('the member list says who is online and how far each has read; frames move them on, never back', async () => {
    const t = await started(group.id);
    expect(t.state().presence).toMatchObject({ [me.id]: true, [bob.id]: false });
    expect(t.state().readSeqs[group.id]).toEqual({ [me.id]: 2, [bob.id]: 1 });
    // Plain users: what the member list adds stays out of the names.
    expect(t.state().members[group.id]).toEqual([me, bob]);
    t.socket().push({ type: 'presence', users: [{ userId: bob.id, online: true }] });
    expect(t.state().presence[bob.id]).toBe(true);
    t.socket().push({ type: 'read', roomId: group.id, userId: bob.id, seq: 2 });
    expect(t.state().readSeqs[group.id]?.[bob.id]).toBe(2);
    t.socket().push({ type: 'read', roomId: group.id, userId: bob.id, seq: 1 });
    expect(t.state().readSeqs[group.id]?.[bob.id]).toBe(2);
  });

  it('after a reconnect the members of the DMs and of the open room are read again', async () => {
    const t = await started(group.id);
    const asked = (id: string) => t.api.calls.filter((c) => c.path === `/rooms/${id}`).length;
    const before = { g: asked(group.id), dm: asked(dm.id), o: asked(other.id) };
    t.socket().drop(1001);
    t.clock.advance(250);
    t.socket().accept();
    await settle();
    expect(asked(group.id)).toBe(before.g + 1);
    expect(asked(dm.id)).toBe(before.dm + 1);
    expect(asked(other.id)).toBe(before.o);
  });
});

describe('the mentions inbox', () => {
  const inbox = [mention(group.id, 9), mention(other.id, 4), mention(other.id, 2, { read: true })];

  it('signing in reads the first page; its unread total is the badge', async () => {
    const t = await started(null, { inbox });
    expect(t.state().inbox).toMatchObject({
      unreadTotal: 2,
      nextCursor: '1700000000002.m_x',
      loaded: true,
      error: null,
    });
    expect(t.state().inbox.items.map((n) => n.messageId)).toEqual(['m_r_g_9', 'm_r_o_4']);
  });

  it('"Load more" follows the cursor and adds the older entries', async () => {
    const t = await started(null, { inbox });
    await t.store.loadMoreInbox();
    expect(t.api.calls.at(-1)?.path).toBe('/notifications?limit=20&cursor=1700000000002.m_x');
    expect(t.state().inbox.items.map((n) => n.messageId)).toEqual([
      'm_r_g_9',
      'm_r_o_4',
      'm_r_o_2',
    ]);
    expect(t.state().inbox.nextCursor).toBeNull();
  });

  it('a notification frame adds its entry newest first; a count-only frame sets the count, at 0 every entry is read', async () => {
    const t = await started(null, { inbox });
    const live = mention(group.id, 30);
    t.socket().push({ type: 'notification', unreadTotal: 3, notification: live });
    t.socket().push({ type: 'notification', unreadTotal: 3, notification: live });
    expect(t.state().inbox.items.map((n) => n.messageId)).toEqual([
      'm_r_g_30',
      'm_r_g_9',
      'm_r_o_4',
    ]);
    expect(t.state().inbox.unreadTotal).toBe(3);
    t.socket().push({ type: 'notification', unreadTotal: 1 });
    expect(t.state().inbox.unreadTotal).toBe(1);
    t.socket().push({ type: 'notification', unreadTotal: 0 });
    expect(t.state().inbox.items.every((n) => n.read)).toBe(true);
  });

  it('reading the first page again keeps entries that arrived while it was on its way', async () => {
    const t = await started(null, { inbox });
    const loading = t.store.loadInbox();
    t.socket().push({ type: 'notification', unreadTotal: 3, notification: mention(dm.id, 1) });
    await loading;
    expect(t.state().inbox.items.map((n) => n.messageId)).toContain('m_r_dm_1');
    expect(t.state().inbox.unreadTotal).toBe(2);
  });

  it('"Mark all read" marks every entry at once and asks the server for all', async () => {
    const t = await started(null, { inbox });
    const marking = t.store.markAllMentionsRead();
    expect(t.state().inbox.unreadTotal).toBe(0);
    expect(t.state().inbox.items.every((n) => n.read)).toBe(true);
    await marking;
    expect(t.api.calls.at(-1)).toMatchObject({
      method: 'POST',
      path: '/notifications/read',
      body: { all: true },
    });
  });

  it('opening an entry opens its room at the message and marks that entry read', async () => {
    const t = await started(null, { inbox: [mention(other.id, 4), mention(group.id, 1)] });
    await t.store.openMention(mention(other.id, 4));
    expect(t.state().selectedRoomId).toBe(other.id);
    expect(t.state().jump).toMatchObject({ messageId: 'm_r_o_4', seq: 4, status: 'shown' });
    expect(t.api.calls.find((c) => c.path === '/notifications/read')?.body).toEqual({
      messageIds: ['m_r_o_4'],
    });
    const items = t.state().inbox.items;
    expect(items.find((n) => n.messageId === 'm_r_o_4')?.read).toBe(true);
    expect(items.find((n) => n.messageId === 'm_r_g_1')?.read).toBe(false);
  });

  it('reading a room marks its mentions up to the seq read, not later ones', async () => {
    const t = await started(null, { inbox: [mention(other.id, 9), mention(other.id, 4)] });
    t.store.selectRoom(other.id);
    await settle();
    t.clock.advance(READ_DEBOUNCE_MS);
    expect(t.reads()).toEqual([{ type: 'read', roomId: other.id, seq: 5 }]);
    const read = Object.fromEntries(t.state().inbox.items.map((n) => [n.seq, n.read]));
    expect(read).toEqual({ 4: true, 9: false });
    expect(t.state().inbox.unreadTotal).toBe(1);
  });

  it('an inbox that cannot be read says why and leaves the count at 0', async () => {
    const t = await started(null, {
      routes: {
        'GET /notifications': () => ({
          status: 503,
          body: { error: { code: 'unavailable', message: 'down' } },
        }),
      },
    });
    expect(t.state().inbox).toMatchObject({ unreadTotal: 0, loading: false });
    expect(t.state().inbox.error).toBe('Parley is not reachable right now. Please try again.');
  });
});
