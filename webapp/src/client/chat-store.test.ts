import type { Message, Room, User } from '@parley/protocol/model';
import { describe, expect, it } from 'vitest';
import { ChatStore, JUMP_MAX_PAGES } from './chat-store';
import { SESSION_EXPIRED_MESSAGE, SessionStore } from './session';
import {
  defined,
  fakeFetch,
  fakeToken,
  fakeWebSocket,
  ManualClock,
  memoryStorage,
} from './testing';
import { entries } from './timeline';

const me: User = { id: 'u_me', username: 'me', displayName: 'Mia' };
const bob: User = { id: 'u_bob', username: 'bob', displayName: 'Bob' };
const group: Room = { id: 'r_g', name: 'General', kind: 'group', memberCount: 2, lastSeq: 2 };
const dm: Room = { id: 'r_dm', name: 'Bob & Mia', kind: 'dm', memberCount: 2, lastSeq: 0 };

const msg = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `m_${seq}`,
  roomId: group.id,
  seq,
  senderId: bob.id,
  body: `hi ${seq}`,
  ts: 1_700_000_000_000 + seq,
  clientMsgId: `c_${seq}`,
  ...over,
});

/** Lets the fake fetch's promises settle. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
};

function setup(
  opts: { expiresIn?: number; rooms?: Room[]; routes?: Parameters<typeof fakeFetch>[0] } = {},
) {
  const clock = new ManualClock();
  const storage = memoryStorage();
  const token = fakeToken(clock.time + (opts.expiresIn ?? 3_600_000));
  new SessionStore(storage).save({ token, user: me });
  const api = fakeFetch({
    'GET /rooms': () => ({
      status: 200,
      body: {
        rooms: (opts.rooms ?? [group, dm]).map((r) => ({
          ...r,
          unread: 0,
          ...(r.id === group.id ? { lastMessage: msg(2) } : {}),
        })),
      },
    }),
    'GET /rooms/r_g': () => ({ status: 200, body: { room: group, members: [me, bob] } }),
    'GET /rooms/r_dm': () => ({ status: 200, body: { room: dm, members: [bob, me] } }),
    'GET /rooms/r_g/messages': () => ({
      status: 200,
      body: { messages: [msg(1), msg(2)], hasMore: false },
    }),
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
  const timeline = (id = group.id) => defined(state().timelines[id]);
  return { store, clock, storage, api, ws, socket, state, timeline };
}

/** Signed in, connected, the group open with seq 1–2. */
async function inRoom() {
  const t = setup();
  t.store.init();
  t.socket().accept();
  await settle();
  t.store.selectRoom(group.id);
  await settle();
  return t;
}

describe('ChatStore', () => {
  it('picks up the stored session, connects and lists rooms newest first', async () => {
    const t = setup();
    t.store.init();
    t.socket().accept();
    await settle();
    expect(t.state().connection).toBe('open');
    expect(t.state().rooms.map((r) => r.id)).toEqual([group.id, dm.id]);
    expect(t.state().rooms[0]?.lastMessage).toEqual(msg(2));
  });

  it('names a DM after the other member', async () => {
    const t = setup();
    t.store.init();
    await settle();
    expect(t.state().rooms.find((r) => r.id === dm.id)?.displayName).toBe('Bob');
    expect(t.api.calls.some((c) => c.path === '/rooms/r_dm')).toBe(true);
  });

  it('looks up the members of a group whose last sender it does not know (the preview names them)', async () => {
    const t = setup();
    t.store.init();
    await settle();
    expect(t.api.calls.some((c) => c.path === '/rooms/r_g')).toBe(true);
    expect(t.state().users[bob.id]).toEqual(bob);
  });

  it('a token that expired while the page was open ends the session at the next reconnect', async () => {
    const t = setup({ expiresIn: 60_000 });
    t.store.init();
    t.socket().accept();
    t.clock.advance(61_000);
    t.socket().drop(1006);
    t.clock.advance(30_000);
    expect(t.ws.sockets).toHaveLength(1);
    expect(t.state().authMessage).toBe(SESSION_EXPIRED_MESSAGE);
  });

  it('an expired stored session signs out with the reason', () => {
    const t = setup({ expiresIn: -1000 });
    t.store.init();
    expect(t.state().session).toBeNull();
    expect(t.state().authMessage).toBe(SESSION_EXPIRED_MESSAGE);
    expect(t.ws.sockets).toHaveLength(0);
  });

  it('close 4001 signs out with the reason', async () => {
    const t = setup();
    t.store.init();
    t.socket().accept();
    t.socket().drop(4001, 'token expired');
    expect(t.state().session).toBeNull();
    expect(t.state().authMessage).toBe(SESSION_EXPIRED_MESSAGE);
    expect(t.storage.data.size).toBe(0);
  });

  it('opening a room loads its latest page and its members', async () => {
    const t = await inRoom();
    expect(t.timeline().messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(t.state().users[bob.id]).toEqual(bob);
  });

  describe('sending', () => {
    it('a send is pending until its ack, then confirmed once', async () => {
      const t = await inRoom();
      const id = t.store.send(group.id, 'hello');
      expect(t.socket().framesOf('send')).toEqual([
        { type: 'send', roomId: group.id, clientMsgId: 'cm_1', body: 'hello' },
      ]);
      expect(t.timeline().pending.map((p) => p.status)).toEqual(['pending']);
      t.socket().push({
        type: 'ack',
        clientMsgId: defined(id),
        roomId: group.id,
        id: 'm_3',
        seq: 3,
        ts: 9,
      });
      expect(t.timeline().pending).toEqual([]);
      expect(entries(t.timeline()).map((e) => e.body)).toEqual(['hi 1', 'hi 2', 'hello']);
      expect(t.state().rooms[0]?.lastMessage?.body).toBe('hello');
    });

    it('a send without an ack fails after 10 s; retry resends the same clientMsgId', async () => {
      const t = await inRoom();
      t.store.send(group.id, 'hello');
      t.clock.advance(9_999);
      expect(t.timeline().pending[0]?.status).toBe('pending');
      t.clock.advance(1);
      expect(t.timeline().pending[0]?.status).toBe('failed');
      t.store.retry(group.id, 'cm_1');
      expect(t.timeline().pending[0]?.status).toBe('pending');
      expect(
        t
          .socket()
          .framesOf('send')
          .map((f) => f.clientMsgId),
      ).toEqual(['cm_1', 'cm_1']);
      t.socket().push({
        type: 'ack',
        clientMsgId: 'cm_1',
        roomId: group.id,
        id: 'm_3',
        seq: 3,
        ts: 9,
      });
      expect(entries(t.timeline()).filter((e) => e.body === 'hello')).toHaveLength(1);
      // The timer of the first attempt does not fail the retried send.
      t.clock.advance(20_000);
      expect(t.timeline().pending).toEqual([]);
    });

    it('an error frame naming the send fails it with the reason', async () => {
      const t = await inRoom();
      t.store.send(group.id, 'hello');
      t.socket().push({ type: 'error', code: 'not_member', message: 'no', ref: 'cm_1' });
      expect(t.timeline().pending[0]).toMatchObject({
        status: 'failed',
        error: 'You are no longer a member of this room.',
      });
    });

    it('refuses blank and over-long bodies', async () => {
      const t = await inRoom();
      expect(t.store.send(group.id, '   \n')).toBeNull();
      expect(t.store.send(group.id, '😀'.repeat(4001))).toBeNull();
      expect(t.store.send(group.id, '😀'.repeat(4000))).not.toBeNull();
    });

    it('a send made while disconnected goes out after the reconnect', async () => {
      const t = await inRoom();
      t.socket().drop(1006);
      t.store.send(group.id, 'offline hello');
      t.clock.advance(250);
      t.socket().accept();
      expect(
        t
          .socket()
          .framesOf('send')
          .map((f) => f.body),
      ).toEqual(['offline hello']);
    });

    it('the echo of our send via sync replaces the pending entry', async () => {
      const t = await inRoom();
      t.store.send(group.id, 'hello');
      t.socket().push({
        type: 'sync',
        roomId: group.id,
        messages: [msg(3, { senderId: me.id, clientMsgId: 'cm_1', body: 'hello' })],
        complete: true,
      });
      expect(t.timeline().pending).toEqual([]);
      expect(t.timeline().messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    });
  });

  describe('missed messages', () => {
    it('a gap asks for a sync from the last seq without a hole, once', async () => {
      const t = await inRoom();
      t.socket().push({ type: 'message', message: msg(5) });
      t.socket().push({ type: 'message', message: msg(6) });
      expect(t.socket().framesOf('sync')).toEqual([{ type: 'sync', rooms: { [group.id]: 2 } }]);
      t.socket().push({
        type: 'sync',
        roomId: group.id,
        messages: [msg(3), msg(4)],
        complete: true,
      });
      expect(t.timeline().messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('an incomplete sync answer asks again from where it ended', async () => {
      const t = await inRoom();
      t.socket().push({ type: 'sync', roomId: group.id, messages: [msg(3)], complete: false });
      expect(t.socket().framesOf('sync').at(-1)).toEqual({
        type: 'sync',
        rooms: { [group.id]: 3 },
      });
    });

    it('after a reconnect it syncs every room from what it has', async () => {
      const t = await inRoom();
      t.socket().push({ type: 'message', message: msg(3) });
      t.socket().drop(1001);
      t.clock.advance(250);
      t.socket().accept();
      expect(t.socket().framesOf('sync')).toEqual([
        { type: 'sync', rooms: { [group.id]: 3, [dm.id]: 0 } },
      ]);
      t.socket().push({ type: 'sync', roomId: group.id, messages: [msg(4)], complete: true });
      expect(t.timeline().messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    });

    it('a message in a closed room updates its preview and moves it to the top', async () => {
      const t = setup();
      t.store.init();
      t.socket().accept();
      await settle();
      const m = { ...msg(1, { roomId: dm.id, body: 'psst' }), ts: 1_800_000_000_000 };
      t.socket().push({ type: 'message', message: m });
      expect(t.state().rooms[0]).toMatchObject({ id: dm.id, lastSeq: 1, lastMessage: m });
      expect(t.state().timelines[dm.id]).toBeUndefined();
    });
  });

  describe('rooms', () => {
    it('a room frame adds the room; a left frame removes it and closes it', async () => {
      const t = await inRoom();
      const other: Room = { id: 'r_new', name: 'New', kind: 'group', memberCount: 3, lastSeq: 0 };
      t.clock.advance(60_000);
      t.socket().push({ type: 'room', event: 'joined', room: other });
      expect(t.state().rooms[0]?.id).toBe('r_new');
      t.socket().push({ type: 'room', event: 'left', room: group });
      expect(t.state().rooms.map((r) => r.id)).toEqual(['r_new', dm.id]);
      expect(t.state().selectedRoomId).toBeNull();
      expect(t.state().timelines[group.id]).toBeUndefined();
    });

    it('a sync refused with not_member drops the room (left on another device)', async () => {
      const t = await inRoom();
      t.socket().push({ type: 'error', code: 'not_member', message: 'gone', ref: dm.id });
      expect(t.state().rooms.map((r) => r.id)).toEqual([group.id]);
    });

    it('a 401 from the API signs out with the reason', async () => {
      const t = setup({
        routes: {
          'GET /rooms/r_g/messages': () => ({
            status: 401,
            body: { error: { code: 'unauthorized', message: 'token expired' } },
          }),
        },
      });
      t.store.init();
      t.socket().accept();
      await settle();
      t.store.selectRoom(group.id);
      await settle();
      expect(t.state().session).toBeNull();
      expect(t.state().authMessage).toBe(SESSION_EXPIRED_MESSAGE);
      expect(t.socket().closedWith).toBe(1000);
    });
  });

  describe('opening a room at a message (a search result)', () => {
    /** The group with seq 1…`total`: history pages as the server cuts them. */
    function longRoom(total: number) {
      const history = (path: string) => {
        const q = new URL(path, 'http://parley.test').searchParams;
        const limit = Number(q.get('limit') ?? 50);
        const before = q.get('before');
        const end = before ? Number(before) - 1 : total;
        const start = Math.max(1, end - limit + 1);
        const messages = Array.from({ length: end - start + 1 }, (_, i) => msg(start + i));
        return { status: 200, body: { messages, hasMore: start > 1 } };
      };
      return setup({
        rooms: [{ ...group, lastSeq: total }, dm],
        routes: { 'GET /rooms/r_g/messages': (req) => history(req.path) },
      });
    }
    const historyCalls = (t: ReturnType<typeof setup>) =>
      t.api.calls.filter((c) => c.path.startsWith('/rooms/r_g/messages')).map((c) => c.path);

    it('a message the timeline holds is shown at once, nothing loaded', async () => {
      const t = await inRoom();
      const before = t.api.calls.length;
      await t.store.openMessage(msg(1));
      expect(t.state().jump).toMatchObject({ roomId: group.id, messageId: 'm_1', status: 'shown' });
      expect(t.api.calls.length).toBe(before);
    });

    it('opens the room and pages back until it holds the message, continuous and bounded', async () => {
      const t = longRoom(250);
      t.store.init();
      t.socket().accept();
      await settle();
      const opened = t.store.openMessage(msg(42));
      expect(t.state().selectedRoomId).toBe(group.id);
      expect(t.state().jump).toMatchObject({ seq: 42, status: 'loading' });
      await opened;
      expect(t.state().jump).toMatchObject({ messageId: 'm_42', status: 'shown' });
      expect(historyCalls(t)).toEqual([
        '/rooms/r_g/messages?limit=50',
        '/rooms/r_g/messages?before=201&limit=100',
        // Just enough to reach seq 42 with ten messages above it.
        '/rooms/r_g/messages?before=101&limit=69',
      ]);
      const seqs = t.timeline().messages.map((m) => m.seq);
      expect(seqs[0]).toBe(32);
      expect(seqs).toEqual(Array.from({ length: 250 - 31 }, (_, i) => 32 + i));
      // Continuous: nothing to sync.
      expect(t.socket().framesOf('sync')).toEqual([]);
      expect(t.state().loadingOlder[group.id]).toBe(false);
    });

    it('gives up past JUMP_MAX_PAGES pages and says so', async () => {
      const total = 50 + (JUMP_MAX_PAGES + 1) * 100;
      const t = longRoom(total);
      t.store.init();
      t.socket().accept();
      await settle();
      await t.store.openMessage(msg(3));
      expect(t.state().jump?.status).toBe('too-far');
      expect(historyCalls(t)).toHaveLength(1 + JUMP_MAX_PAGES);
    });

    it('a message newer than the timeline comes with the sync it asks for', async () => {
      const t = await inRoom();
      await t.store.openMessage(msg(4));
      expect(t.state().jump?.status).toBe('loading');
      expect(t.socket().framesOf('sync')).toEqual([{ type: 'sync', rooms: { [group.id]: 2 } }]);
      t.socket().push({
        type: 'sync',
        roomId: group.id,
        messages: [msg(3), msg(4)],
        complete: true,
      });
      expect(t.state().jump).toMatchObject({ messageId: 'm_4', status: 'shown' });
    });

    it('an older page that cannot be read ends the jump as an error, with the reason', async () => {
      const t = setup({
        rooms: [{ ...group, lastSeq: 250 }, dm],
        routes: {
          'GET /rooms/r_g/messages': (req) =>
            req.path.includes('before=')
              ? { status: 503, body: { error: { code: 'unavailable', message: 'down' } } }
              : { status: 200, body: { messages: [msg(201), msg(202)], hasMore: true } },
        },
      });
      t.store.init();
      t.socket().accept();
      await settle();
      await t.store.openMessage(msg(42));
      expect(t.state().jump?.status).toBe('error');
      expect(t.state().historyError[group.id]).toBe(
        'Parley is not reachable right now. Please try again.',
      );
    });

    it('opening another room forgets the jump; a newer jump supersedes an older one', async () => {
      const t = longRoom(250);
      t.store.init();
      t.socket().accept();
      await settle();
      const first = t.store.openMessage(msg(42));
      const second = t.store.openMessage(msg(230));
      await Promise.all([first, second]);
      expect(t.state().jump).toMatchObject({ messageId: 'm_230', status: 'shown' });
      expect(historyCalls(t)).toEqual(['/rooms/r_g/messages?limit=50']);
      t.store.selectRoom(dm.id);
      expect(t.state().jump).toBeNull();
    });
  });

  it('looks up the members of rooms it has not seen, once each (search results name senders)', async () => {
    const carol: User = { id: 'u_carol', username: 'carol', displayName: 'Carol' };
    const other: Room = { id: 'r_o', name: 'Other', kind: 'group', memberCount: 2, lastSeq: 9 };
    let asked = 0;
    const t = setup({
      routes: {
        'GET /rooms/r_o': () => {
          asked++;
          return { status: 200, body: { room: other, members: [me, carol] } };
        },
      },
    });
    t.store.init();
    await settle();
    await t.store.loadMembersOf([other.id, other.id, group.id]);
    await t.store.loadMembersOf([other.id]);
    expect(asked).toBe(1);
    expect(t.state().users[carol.id]).toEqual(carol);
  });

  it('logout forgets the session and closes the socket', async () => {
    const t = await inRoom();
    t.store.logout();
    expect(t.state().session).toBeNull();
    expect(t.state().authMessage).toBeNull();
    expect(t.storage.data.size).toBe(0);
    expect(t.socket().closedWith).toBe(1000);
  });
});
