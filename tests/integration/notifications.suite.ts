/**
 * Unread counts, read markers, mentions, presence and typing
 * (docs/notifications.md), tested only through the gateway's public HTTP and
 * WebSocket protocol, like protocol.suite.ts. Run against the real stack
 * (tests/integration/real-stack.test.ts) and the embedded mode
 * (launcher/src/embedded.test.ts).
 *
 * Everything notify does is asynchronous (Kafka or the memory bus in between),
 * so a case waits for a frame that can only come after the effect it checks —
 * a `notification` of a later message in the same room (notify handles one
 * room's messages in order), or the answer of a `POST /read` (one user's read
 * commands are handled in order), a ping's pong on the same socket — rather
 * than sleeping. Only time itself is waited out: a second tab closing must
 * send no presence frame for two flushes, and typing is relayed again once its
 * 2.5 s interval has passed. Every user is new (unique name), so the real
 * stack's databases, shared across runs, never leak state into a case.
 */

import { randomBytes } from 'node:crypto';
import { type Account, Api, HttpError, WsClient } from '@parley/perf/client';
import type { Message, Notification, Room, ServerFrame, User } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type AckFrame = Extract<ServerFrame, { type: 'ack' }>;
type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;
type UnreadFrame = Extract<ServerFrame, { type: 'unread' }>;
type ReadFrame = Extract<ServerFrame, { type: 'read' }>;
type NotificationFrame = Extract<ServerFrame, { type: 'notification' }>;
type PresenceFrame = Extract<ServerFrame, { type: 'presence' }>;
type TypingFrame = Extract<ServerFrame, { type: 'typing' }>;

/** A room as `GET /rooms` lists it. */
type ListedRoom = Room & { unread: number; lastMessage?: Message };
/** A member as `GET /rooms/:id` lists it. */
type Member = User & { online?: boolean; readSeq?: number };
type Inbox = { notifications: Notification[]; unreadTotal: number; nextCursor?: string };
type ReadResult = { roomId: string; seq: number; unread: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const isUnreadIn = (roomId: string) => (f: ServerFrame) =>
  f.type === 'unread' && f.roomId === roomId;
const isAckOf = (clientMsgId: string) => (f: ServerFrame) =>
  f.type === 'ack' && f.clientMsgId === clientMsgId;
const isMessageAt = (roomId: string, seq: number) => (f: ServerFrame) =>
  f.type === 'message' && f.message.roomId === roomId && f.message.seq === seq;
const isMentionOf = (messageId: string) => (f: ServerFrame) =>
  f.type === 'notification' && f.notification?.messageId === messageId;
const isPresenceOf = (userId: string, online: boolean) => (f: ServerFrame) =>
  f.type === 'presence' && f.users.some((u) => u.userId === userId && u.online === online);
const presenceOf = (ws: WsClient, userId: string) =>
  ws.frames
    .filter((f): f is PresenceFrame => f.type === 'presence')
    .flatMap((f) => f.users.filter((u) => u.userId === userId));
const readsIn = (ws: WsClient, roomId: string) =>
  ws.frames.filter((f): f is ReadFrame => f.type === 'read' && f.roomId === roomId);

/**
 * The `unread` frame of `roomId` that follows the first frame matching `anchor` (a message, an
 * ack): the count the socket was told for that event. Later `unread` frames are not looked at.
 */
async function unreadAfter(
  ws: WsClient,
  roomId: string,
  anchor: (f: ServerFrame) => boolean,
): Promise<number> {
  const at = ws.frames.indexOf(await ws.next(anchor));
  return (await ws.next<UnreadFrame>(isUnreadIn(roomId), 15_000, at + 1)).count;
}

/** The first `unread` frame of `roomId` from frame index `from` on. */
async function firstUnreadFrom(ws: WsClient, roomId: string, from: number): Promise<number> {
  return (await ws.next<UnreadFrame>(isUnreadIn(roomId), 15_000, from)).count;
}

export function describeNotificationsSuite(name: string, baseUrl: () => string): void {
  describe(`notifications — ${name}`, () => {
    let api: Api;
    const sockets: WsClient[] = [];

    const connect = async (a: Account) => {
      const ws = await WsClient.connect(api, a.token);
      sockets.push(ws);
      return ws;
    };
    const signup = (prefix: string) => api.signup(prefix);
    const createRoom = (owner: Account, roomName: string, members: Account[]) =>
      api
        .call<{ room: Room }>('POST', '/api/v1/rooms', {
          token: owner.token,
          body: { name: roomName, memberIds: members.map((m) => m.user.id) },
        })
        .then((r) => r.room);
    const invite = (owner: Account, roomId: string, who: Account) =>
      api.call<{ room: Room }>('POST', `/api/v1/rooms/${roomId}/members`, {
        token: owner.token,
        body: { userId: who.user.id },
      });
    const leave = async (a: Account, roomId: string) => {
      const res = await fetch(`${api.baseUrl}/api/v1/rooms/${roomId}/members/me`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${a.token}` },
      });
      expect(res.status).toBe(204);
    };
    /** The caller's entry for `roomId` in `GET /rooms`. */
    const listed = async (a: Account, roomId: string): Promise<ListedRoom | undefined> => {
      const { rooms } = await api.call<{ rooms: ListedRoom[] }>('GET', '/api/v1/rooms', {
        token: a.token,
      });
      return rooms.find((r) => r.id === roomId);
    };
    const membersOf = async (a: Account, roomId: string): Promise<Map<string, Member>> => {
      const { members } = await api.call<{ members: Member[] }>('GET', `/api/v1/rooms/${roomId}`, {
        token: a.token,
      });
      return new Map(members.map((m) => [m.id, m]));
    };
    const markRead = (a: Account, roomId: string, seq: unknown) =>
      api.call<ReadResult>('POST', `/api/v1/rooms/${roomId}/read`, {
        token: a.token,
        body: { seq },
      });
    const inbox = (a: Account, query = '') =>
      api.call<Inbox>('GET', `/api/v1/notifications${query ? `?${query}` : ''}`, {
        token: a.token,
      });
    const markInboxRead = (a: Account, body: unknown) =>
      api.call<{ unreadTotal: number }>('POST', '/api/v1/notifications/read', {
        token: a.token,
        body,
      });
    /** Sends one message and waits for its ack. */
    const say = (
      ws: WsClient,
      roomId: string,
      clientMsgId: string,
      body = `text ${clientMsgId}`,
    ) => {
      ws.send({ type: 'send', roomId, clientMsgId, body });
      return ws.next<AckFrame>(isAckOf(clientMsgId), 30_000);
    };
    /** Resolves once every frame the server sent `ws` before this call has been received. */
    const barrier = async (ws: WsClient) => {
      const ref = `barrier-${randomBytes(4).toString('hex')}`;
      const from = ws.frames.length;
      ws.send({ type: 'ping', ref });
      await ws.next((f) => f.type === 'pong' && f.ref === ref, 15_000, from);
    };
    const expectHttpError = (p: Promise<unknown>, status: number, code: string) =>
      expect(p).rejects.toMatchObject({ status, body: { error: { code } } });

    beforeAll(async () => {
      api = new Api(baseUrl());
      // On the real stack notify's consumer group may first work through what its topics already
      // hold (a new group starts at the earliest record): wait, once, until it turns a mention into
      // a notification and answers a read, so that the cases below can use ordinary bounds.
      const [w1, w2] = await Promise.all([signup('warm'), signup('warmer')]);
      const room = await createRoom(w1, 'warm-up', [w2]);
      const [ws1, ws2] = await Promise.all([connect(w1), connect(w2)]);
      await say(ws1, room.id, 'warm-1', `@${w2.user.username} are you up?`);
      await ws2.next((f) => f.type === 'notification', 150_000);
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await markRead(w2, room.id, 1);
          break;
        } catch (err) {
          // 504: the command was accepted but its result did not come back in time.
          if (!(err instanceof HttpError && err.status === 504) || Date.now() > deadline) throw err;
        }
      }
      ws1.close();
      ws2.close();
    }, 240_000);
    afterAll(() => {
      for (const s of sockets) s.close();
    });

    it('lists each room with unread = lastSeq − my read marker and its lastMessage; every message is followed by an unread frame on each member socket, 0 on the sender’s', async () => {
      const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
      const room = await createRoom(alice, 'counts', [bob]);
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 0, unread: 0 });
      const [wa1, wa2, wb1, wb2] = await Promise.all([
        connect(alice),
        connect(alice),
        connect(bob),
        connect(bob),
      ]);
      const acks: AckFrame[] = [];
      for (let i = 1; i <= 3; i++) acks.push(await say(wa1, room.id, `c-${i}`, `count ${i}`));
      expect(acks.map((a) => a.seq)).toEqual([1, 2, 3]);
      for (const ack of acks) {
        // Bob has read nothing: seq − 0, on each of his sockets.
        for (const ws of [wb1, wb2])
          expect(await unreadAfter(ws, room.id, isMessageAt(room.id, ack.seq))).toBe(ack.seq);
        // Alice has read what she wrote: 0 on the sending socket (after its ack) and her other one.
        expect(await unreadAfter(wa1, room.id, isAckOf(ack.clientMsgId))).toBe(0);
        expect(await unreadAfter(wa2, room.id, isMessageAt(room.id, ack.seq))).toBe(0);
      }
      const last = acks[2] as AckFrame;
      const forBob = await listed(bob, room.id);
      expect(forBob).toMatchObject({ lastSeq: 3, unread: 3 });
      expect(forBob?.lastMessage).toMatchObject({
        id: last.id,
        roomId: room.id,
        seq: 3,
        senderId: alice.user.id,
        body: 'count 3',
        clientMsgId: 'c-3',
      });
      expect((await listed(alice, room.id))?.lastMessage).toMatchObject({ id: last.id, seq: 3 });
    });

    it('a read on one socket (WS or POST) moves my unread on all my sockets and tells the room’s other members, never my own sockets; the marker only grows', async () => {
      const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
      const room = await createRoom(alice, 'receipts', [bob]);
      const [wa, wb1, wb2] = await Promise.all([connect(alice), connect(bob), connect(bob)]);
      for (let i = 1; i <= 4; i++) await say(wa, room.id, `r-${i}`);
      for (const ws of [wb1, wb2])
        expect(await unreadAfter(ws, room.id, isMessageAt(room.id, 4))).toBe(4);

      // A `read` frame on one of Bob's sockets: both of his sockets agree, Alice sees the receipt.
      let from = [wb1.frames.length, wb2.frames.length];
      wb1.send({ type: 'read', roomId: room.id, seq: 2 });
      expect(await firstUnreadFrom(wb1, room.id, from[0] as number)).toBe(2);
      expect(await firstUnreadFrom(wb2, room.id, from[1] as number)).toBe(2);
      expect(
        await wa.next<ReadFrame>((f) => f.type === 'read' && f.roomId === room.id, 15_000),
      ).toEqual({ type: 'read', roomId: room.id, userId: bob.user.id, seq: 2 });

      // POST /read: answered once notify has stored it, and told the same way.
      from = [wb1.frames.length, wb2.frames.length];
      expect(await markRead(bob, room.id, 4)).toEqual({ roomId: room.id, seq: 4, unread: 0 });
      expect(await firstUnreadFrom(wb1, room.id, from[0] as number)).toBe(0);
      expect(await firstUnreadFrom(wb2, room.id, from[1] as number)).toBe(0);
      await wa.next((f) => f.type === 'read' && f.roomId === room.id && f.seq === 4);

      // Lower seqs change nothing: the answer carries the stored seq; a lower `read` frame neither.
      expect(await markRead(bob, room.id, 1)).toEqual({ roomId: room.id, seq: 4, unread: 0 });
      wb2.send({ type: 'read', roomId: room.id, seq: 3 });
      // Once its pong is back the frame above is on its way to notify; Bob's reads are handled in
      // order, so this answer comes after that frame was.
      await barrier(wb2);
      expect(await markRead(bob, room.id, 0)).toMatchObject({ seq: 4, unread: 0 });
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 4, unread: 0 });
      const members = await membersOf(alice, room.id);
      expect(members.get(bob.user.id)?.readSeq).toBe(4);

      // Receipts went to Alice only, for the reads that moved the marker.
      await Promise.all([barrier(wa), barrier(wb1), barrier(wb2)]);
      expect(readsIn(wa, room.id).map((f) => [f.userId, f.seq])).toEqual([
        [bob.user.id, 2],
        [bob.user.id, 4],
      ]);
      expect(readsIn(wb1, room.id)).toEqual([]);
      expect(readsIn(wb2, room.id)).toEqual([]);

      // The gateway counts from the marker too: the next message is 1 unread (5 − 4), not 5.
      await say(wa, room.id, 'r-5');
      for (const ws of [wb1, wb2])
        expect(await unreadAfter(ws, room.id, isMessageAt(room.id, 5))).toBe(1);
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 5, unread: 1 });
    });

    it('refuses bad reads — past lastSeq, not a member, negative or fractional — over HTTP and WS, and changes nothing', async () => {
      const [alice, bob, carol] = await Promise.all([
        signup('alice'),
        signup('bob'),
        signup('carol'),
      ]);
      const room = await createRoom(alice, 'strict', [bob]);
      const [wa, wb, wc] = await Promise.all([connect(alice), connect(bob), connect(carol)]);
      await say(wa, room.id, 's-1');
      await say(wa, room.id, 's-2');

      await expectHttpError(markRead(bob, room.id, 3), 400, 'bad_request');
      await expectHttpError(markRead(bob, room.id, -1), 400, 'bad_request');
      await expectHttpError(markRead(bob, room.id, 1.5), 400, 'bad_request');
      await expectHttpError(markRead(bob, room.id, '1'), 400, 'bad_request');
      await expectHttpError(markRead(carol, room.id, 1), 403, 'not_member');

      const refused = async (ws: WsClient, frame: unknown) => {
        const from = ws.frames.length;
        ws.send(frame);
        return (await ws.next<ErrorFrame>((f) => f.type === 'error', 15_000, from)).code;
      };
      expect(await refused(wb, { type: 'read', roomId: room.id, seq: 3 })).toBe('bad_request');
      expect(await refused(wb, { type: 'read', roomId: room.id, seq: -1 })).toBe('malformed_frame');
      expect(await refused(wb, { type: 'read', roomId: room.id, seq: 1.5 })).toBe(
        'malformed_frame',
      );
      expect(await refused(wc, { type: 'read', roomId: room.id, seq: 1 })).toBe('not_member');

      // Nothing was stored: Bob's marker is where it was (his reads are handled in order, so this
      // answer also comes after anything the refused frames could have caused).
      expect(await markRead(bob, room.id, 0)).toMatchObject({ seq: 0, unread: 2 });
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 2, unread: 2 });
      expect(await listed(carol, room.id)).toBeUndefined();
      await Promise.all([barrier(wa), barrier(wb)]);
      // No receipt past 0 reached Alice; Bob's socket is still open and usable.
      expect(readsIn(wa, room.id).filter((f) => f.seq > 0)).toEqual([]);
      expect(wb.closed).toBeUndefined();
      expect(await unreadAfter(wb, room.id, isMessageAt(room.id, 2))).toBe(2);
    });

    it('unread survives a reconnect: GET /rooms and the new socket count from the stored marker', async () => {
      const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
      const room = await createRoom(alice, 'durable', [bob]);
      const [wa, wb] = await Promise.all([connect(alice), connect(bob)]);
      for (let i = 1; i <= 3; i++) await say(wa, room.id, `d-${i}`);
      expect(await markRead(bob, room.id, 1)).toEqual({ roomId: room.id, seq: 1, unread: 2 });
      wb.close();
      await wb.waitClosed();
      await say(wa, room.id, 'd-4');
      await say(wa, room.id, 'd-5');
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 5, unread: 4 });
      const again = await connect(bob);
      await say(wa, room.id, 'd-6');
      expect(await unreadAfter(again, room.id, isMessageAt(room.id, 6))).toBe(5);
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 6, unread: 5 });
    });

    it('a new member starts at 0 unread, not the room’s history; so does one invited back after leaving (what was sent meanwhile is not unread)', async () => {
      const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
      const room = await createRoom(alice, 'latecomers', []);
      const [wa, wb] = await Promise.all([connect(alice), connect(bob)]);
      for (let i = 1; i <= 5; i++) await say(wa, room.id, `h-${i}`);

      // Joining: notify sets Bob's marker to the last seq (5) and tells his sockets.
      let from = wb.frames.length;
      await invite(alice, room.id, bob);
      await wb.next((f) => f.type === 'room' && f.event === 'joined' && f.room.id === room.id);
      expect(await firstUnreadFrom(wb, room.id, from)).toBe(0);
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 5, unread: 0 });
      await say(wa, room.id, 'h-6');
      expect(await unreadAfter(wb, room.id, isMessageAt(room.id, 6))).toBe(1);
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 6, unread: 1 });

      // Leaving keeps the marker (6 − 5 = 1 unread), then two messages while he is away.
      await leave(bob, room.id);
      await wb.next((f) => f.type === 'room' && f.event === 'left' && f.room.id === room.id);
      await say(wa, room.id, 'h-7');
      await say(wa, room.id, 'h-8');
      from = wb.frames.length;
      await invite(alice, room.id, bob);
      await wb.next(
        (f) => f.type === 'room' && f.event === 'joined' && f.room.id === room.id,
        15_000,
        from,
      );
      expect(await firstUnreadFrom(wb, room.id, from)).toBe(0);
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 8, unread: 0 });
      expect(wb.frames.some(isMessageAt(room.id, 7))).toBe(false);
      await say(wa, room.id, 'h-9');
      expect(await unreadAfter(wb, room.id, isMessageAt(room.id, 9))).toBe(1);
    });

    it('sending a message moves my own marker to its seq: my unread in that room stays 0', async () => {
      const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
      const room = await createRoom(alice, 'talkers', [bob]);
      const [wa, wb] = await Promise.all([connect(alice), connect(bob)]);
      await say(wb, room.id, 'm-1');
      const mine = await say(wa, room.id, 'm-2');
      expect(await unreadAfter(wa, room.id, isAckOf('m-2'))).toBe(0);
      // Bob's next message mentions Alice: her notification means notify has handled the room's
      // earlier messages (one room's messages are handled in order), her own included.
      const fence = await say(wb, room.id, 'm-3', `your turn @${alice.user.username}`);
      await wa.next(isMentionOf(fence.id));
      expect(await unreadAfter(wa, room.id, isMessageAt(room.id, 3))).toBe(1);
      // Stored: 3 − 2 for Alice, 3 − 3 for Bob (without the sender's marker: 3 and 3).
      expect(await listed(alice, room.id)).toMatchObject({ lastSeq: 3, unread: 1 });
      expect(await listed(bob, room.id)).toMatchObject({ lastSeq: 3, unread: 0 });
      // With her only socket closed, a new one loads the stored marker (mine.seq = 2) again.
      wa.close();
      await wa.waitClosed();
      const again = await connect(alice);
      await say(wb, room.id, 'm-4');
      expect(await unreadAfter(again, room.id, isMessageAt(room.id, 4))).toBe(4 - mine.seq);
    });

    it('an @mention of a member makes one inbox entry and a notification frame on each of their sockets; none for the sender, a non-member or an unknown name', async () => {
      const [alice, bob, carol, dave] = await Promise.all([
        signup('alice'),
        signup('bob'),
        signup('carol'),
        signup('dave'),
      ]);
      const room = await createRoom(alice, 'mentions', [bob, dave]);
      const [wa, wb1, wb2, wc, wd] = await Promise.all([
        connect(alice),
        connect(bob),
        connect(bob),
        connect(carol),
        connect(dave),
      ]);
      const body =
        `hello @${bob.user.username}, and @${alice.user.username} (me), ` +
        `@${carol.user.username} and @nobody_${randomBytes(4).toString('hex')}.`;
      const ack = await say(wa, room.id, 'mention-1', body);
      const expected = {
        kind: 'mention',
        messageId: ack.id,
        roomId: room.id,
        seq: ack.seq,
        senderId: alice.user.id,
        excerpt: body,
        ts: ack.ts,
        read: false,
      };
      for (const ws of [wb1, wb2])
        expect(await ws.next<NotificationFrame>(isMentionOf(ack.id))).toEqual({
          type: 'notification',
          unreadTotal: 1,
          notification: expected,
        });

      // A later message of the room mentioning Dave: once he is told, the first one is done with.
      // Its body is long: the excerpt is its first 200 characters, counted in code points (an emoji
      // is one, though two UTF-16 units).
      const long = `@${dave.user.username} ${'😀가'.repeat(150)}`;
      const fence = await say(wa, room.id, 'mention-2', long);
      const toDave = await wd.next<NotificationFrame>(isMentionOf(fence.id));
      expect(toDave.notification?.excerpt).toBe([...long].slice(0, 200).join(''));

      expect(await inbox(bob)).toEqual({ notifications: [expected], unreadTotal: 1 });
      expect(await inbox(alice)).toEqual({ notifications: [], unreadTotal: 0 });
      expect(await inbox(carol)).toEqual({ notifications: [], unreadTotal: 0 });
      expect((await inbox(dave)).notifications.map((n) => n.messageId)).toEqual([fence.id]);
      await Promise.all([barrier(wa), barrier(wc)]);
      expect(wa.frames.filter((f) => f.type === 'notification')).toEqual([]);
      expect(wc.frames.filter((f) => f.type === 'notification')).toEqual([]);
    });

    it('the inbox pages newest first by limit and cursor without duplicates or omissions, and is marked read by id, by reading the room past a mention, and all at once', async () => {
      const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
      const room = await createRoom(alice, 'inbox', [bob]);
      const [wa, wb] = await Promise.all([connect(alice), connect(bob)]);
      // Sent in one burst: several may share a millisecond, which the cursor must still page through.
      const N = 7;
      for (let i = 1; i <= N; i++)
        wa.send({
          type: 'send',
          roomId: room.id,
          clientMsgId: `in-${i}`,
          body: `@${bob.user.username} number ${i}`,
        });
      const acks = (await wa.waitForCount(
        (f) => f.type === 'ack' && f.roomId === room.id,
        N,
      )) as AckFrame[];
      acks.sort((x, y) => x.seq - y.seq);
      const told = (await wb.waitForCount(
        (f) => f.type === 'notification' && f.notification !== undefined,
        N,
      )) as NotificationFrame[];
      expect(told.map((f) => f.unreadTotal)).toEqual([1, 2, 3, 4, 5, 6, 7]);

      const pages: Inbox[] = [];
      let cursor: string | undefined;
      do {
        const page = await inbox(
          bob,
          `limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        pages.push(page);
        cursor = page.nextCursor;
      } while (cursor && pages.length < 10);
      expect(pages.map((p) => p.notifications.length)).toEqual([3, 3, 1]);
      expect(pages.at(-1)?.nextCursor).toBeUndefined();
      for (const p of pages) expect(p.unreadTotal).toBe(N);
      const paged = pages.flatMap((p) => p.notifications);
      expect(new Set(paged.map((n) => n.messageId)).size).toBe(N);
      expect(paged.map((n) => n.messageId).sort()).toEqual(acks.map((a) => a.id).sort());
      // Newest first: never an older entry before a newer one.
      const times = paged.map((n) => n.ts);
      expect(times).toEqual([...times].sort((x, y) => y - x));
      for (const n of paged) {
        const ack = acks.find((a) => a.id === n.messageId);
        expect(n).toMatchObject({ kind: 'mention', roomId: room.id, seq: ack?.seq, ts: ack?.ts });
      }
      // One page of the default size holds them all, in the same order.
      const whole = await inbox(bob);
      expect(whole.notifications).toEqual(paged);
      expect(whole.nextCursor).toBeUndefined();
      await expectHttpError(inbox(bob, 'limit=0'), 400, 'bad_request');
      await expectHttpError(inbox(bob, 'cursor=not-a-cursor'), 400, 'bad_request');

      const readFlags = async () => {
        const r = await inbox(bob);
        return {
          unreadTotal: r.unreadTotal,
          read: acks.map((a) => r.notifications.find((n) => n.messageId === a.id)?.read),
        };
      };
      const [s6, s7] = [acks[5] as AckFrame, acks[6] as AckFrame];
      // By id: the two newest.
      let from = wb.frames.length;
      expect(await markInboxRead(bob, { messageIds: [s6.id, s7.id] })).toEqual({ unreadTotal: 5 });
      expect(await wb.next((f) => f.type === 'notification', 15_000, from)).toEqual({
        type: 'notification',
        unreadTotal: 5,
      });
      expect(await readFlags()).toEqual({
        unreadTotal: 5,
        read: [false, false, false, false, false, true, true],
      });
      // Reading the room up to the third mention's seq reads the first three.
      from = wb.frames.length;
      const s3 = acks[2] as AckFrame;
      expect(await markRead(bob, room.id, s3.seq)).toMatchObject({ seq: s3.seq });
      expect(
        await wb.next((f) => f.type === 'notification' && f.unreadTotal === 2, 15_000, from),
      ).toEqual({ type: 'notification', unreadTotal: 2 });
      expect(await readFlags()).toEqual({
        unreadTotal: 2,
        read: [true, true, true, false, false, true, true],
      });
      // All at once.
      from = wb.frames.length;
      expect(await markInboxRead(bob, { all: true })).toEqual({ unreadTotal: 0 });
      expect(await wb.next((f) => f.type === 'notification', 15_000, from)).toEqual({
        type: 'notification',
        unreadTotal: 0,
      });
      expect(await readFlags()).toEqual({ unreadTotal: 0, read: acks.map(() => true) });
      await expectHttpError(markInboxRead(bob, {}), 400, 'bad_request');
      await expectHttpError(markInboxRead(bob, { messageIds: [] }), 400, 'bad_request');
    });

    it('a mention storm: of a body naming 500 users only the first 20 distinct names count; the message is acked and stored whole', async () => {
      const [alice, bob, carol, dave, erin] = await Promise.all([
        signup('alice'),
        signup('bob'),
        signup('carol'),
        signup('dave'),
        signup('erin'),
      ]);
      const room = await createRoom(alice, 'storm', [bob, carol, dave]);
      const [wa, wc] = await Promise.all([connect(alice), connect(carol)]);
      // Names that nobody signs up with (sign-up names end in _<hex>), 3–4 characters, so that
      // 500 of them fit in one body.
      const filler = (i: number) => `n${String(i).padStart(3, '0')}`;
      const [b, c, d, e] = [bob, carol, dave, erin].map((x) => x.user.username);
      // The first 20 distinct names: filler 1, Bob, Erin (not a member), fillers 2–17, Dave (the
      // 20th, after two repeats that add no name). Carol is the 21st: ignored, as is every later
      // name, repeats of Bob and Dave included.
      const names = [
        filler(1),
        b,
        e,
        filler(1),
        b,
        ...Array.from({ length: 16 }, (_, i) => filler(i + 2)),
        d,
        c,
        ...Array.from({ length: 479 }, (_, i) => filler(i + 18)),
        b,
        c,
        d,
      ];
      expect(new Set(names).size).toBe(500);
      const body = names.map((n) => `@${n}`).join(' ');
      const storm = await say(wa, room.id, 'storm-1', body);
      // A later message of the room mentioning Carol: once she is told, the storm is done with.
      const fence = await say(wa, room.id, 'storm-2', `@${c} after the storm`);
      await wc.next(isMentionOf(fence.id), 30_000);

      const ids = async (a: Account) => {
        const r = await inbox(a);
        return { ids: r.notifications.map((n) => n.messageId), unreadTotal: r.unreadTotal };
      };
      expect(await ids(bob)).toEqual({ ids: [storm.id], unreadTotal: 1 });
      expect(await ids(dave)).toEqual({ ids: [storm.id], unreadTotal: 1 });
      expect(await ids(carol)).toEqual({ ids: [fence.id], unreadTotal: 1 });
      expect(await ids(erin)).toEqual({ ids: [], unreadTotal: 0 });
      expect(await ids(alice)).toEqual({ ids: [], unreadTotal: 0 });
      expect(wc.frames.filter((f) => f.type === 'notification')).toHaveLength(1);
      const { messages } = await api.call<{ messages: Message[] }>(
        'GET',
        `/api/v1/rooms/${room.id}/messages?after=${storm.seq - 1}&limit=1`,
        { token: bob.token },
      );
      expect(messages).toEqual([
        expect.objectContaining({ id: storm.id, seq: storm.seq, body, senderId: alice.user.id }),
      ]);
    }, 60_000);

    it('a message.created delivered twice does not mention twice: a retried clientMsgId makes message-write emit it again', async () => {
      // Kafka records cannot be redelivered from outside the stack; a client retry of the same
      // clientMsgId makes message-write emit parley.message.created again for the stored message
      // (its first attempt may have died before emitting), which is what a redelivery looks like
      // to notify: the same message id, a second time.
      const [alice, bob, carol] = await Promise.all([
        signup('alice'),
        signup('bob'),
        signup('carol'),
      ]);
      const room = await createRoom(alice, 'replay', [bob, carol]);
      const [wa, wb, wc] = await Promise.all([connect(alice), connect(bob), connect(carol)]);
      const frame = {
        type: 'send',
        roomId: room.id,
        clientMsgId: 'once',
        body: `@${bob.user.username} only once`,
      };
      wa.send(frame);
      const first = await wa.next<AckFrame>(isAckOf('once'));
      await wb.next(isMentionOf(first.id));
      const from = wa.frames.length;
      wa.send(frame);
      const again = await wa.next<AckFrame>(isAckOf('once'), 15_000, from);
      expect(again).toMatchObject({ id: first.id, seq: first.seq });
      // After the retry, a message of the same room mentioning Carol: once she is told, notify has
      // handled the repeated message.created (one room's messages are handled in order).
      const fence = await say(wa, room.id, 'fence', `@${carol.user.username} next`);
      await wc.next(isMentionOf(fence.id));

      const r = await inbox(bob);
      expect(r.unreadTotal).toBe(1);
      expect(r.notifications.map((n) => n.messageId)).toEqual([first.id]);
      await barrier(wb);
      expect(wb.frames.filter((f) => f.type === 'notification')).toHaveLength(1);
    });

    it('presence: a member’s first socket brings them online for the room (one coalesced frame), a second tab closing changes nothing, the last one takes them offline; GET /rooms/:id agrees', async () => {
      const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
      const room = await createRoom(alice, 'presence', [bob]);
      const wa = await connect(alice);

      const wb1 = await connect(bob);
      // Flushed every second: the frame is at most a flush (plus a little) behind bob's socket.
      const online = await wa.next<PresenceFrame>(isPresenceOf(bob.user.id, true), 3_000);
      expect(online.users.filter((u) => u.userId === bob.user.id)).toEqual([
        { userId: bob.user.id, online: true },
      ]);
      const wb2 = await connect(bob);
      let members = await membersOf(alice, room.id);
      expect(members.get(bob.user.id)).toMatchObject({ online: true, readSeq: 0 });
      expect(members.get(alice.user.id)).toMatchObject({ online: true, readSeq: 0 });

      // One tab closes: Bob is still online. Nothing to wait for but time: two flushes and more.
      wb1.close();
      await wb1.waitClosed();
      await sleep(2_500);
      expect(presenceOf(wa, bob.user.id)).toEqual([{ userId: bob.user.id, online: true }]);
      members = await membersOf(alice, room.id);
      expect(members.get(bob.user.id)?.online).toBe(true);

      // The last one closes: offline, within a flush.
      wb2.close();
      await wb2.waitClosed();
      await wa.next(isPresenceOf(bob.user.id, false), 3_000);
      expect(presenceOf(wa, bob.user.id)).toEqual([
        { userId: bob.user.id, online: true },
        { userId: bob.user.id, online: false },
      ]);
      members = await membersOf(alice, room.id);
      expect(members.get(bob.user.id)?.online).toBe(false);
      expect(members.get(alice.user.id)?.online).toBe(true);
    }, 30_000);

    it('typing is relayed to the room’s other members at most once per 2.5 s per user and room, never to the sender; outside the room it is refused (not_member)', async () => {
      const [alice, bob, carol] = await Promise.all([
        signup('alice'),
        signup('bob'),
        signup('carol'),
      ]);
      const room = await createRoom(alice, 'typing', [bob]);
      const [wa1, wa2, wb, wc] = await Promise.all([
        connect(alice),
        connect(alice),
        connect(bob),
        connect(carol),
      ]);
      const typingIn = (ws: WsClient) =>
        ws.frames.filter((f): f is TypingFrame => f.type === 'typing' && f.roomId === room.id);

      // Five frames within a second: one relayed.
      const firstAt = Date.now();
      for (let i = 0; i < 5; i++) {
        wa1.send({ type: 'typing', roomId: room.id });
        if (i < 4) await sleep(200);
      }
      // Alice's message after them: relayed later than any of them could be, so once Bob has it,
      // every typing frame that was relayed has reached him.
      await say(wa1, room.id, 'typed');
      await wb.next(isMessageAt(room.id, 1));
      await Promise.all([barrier(wb), barrier(wa1), barrier(wa2)]);
      expect(typingIn(wb)).toEqual([{ type: 'typing', roomId: room.id, userId: alice.user.id }]);
      expect(typingIn(wa1)).toEqual([]);
      expect(typingIn(wa2)).toEqual([]);

      // Carol is not in the room: refused, nothing relayed.
      wc.send({ type: 'typing', roomId: room.id });
      expect(await wc.next<ErrorFrame>((f) => f.type === 'error')).toMatchObject({
        code: 'not_member',
      });

      // Once the interval has passed, the next one is relayed again (a throttle, not a mute).
      await sleep(firstAt + 2_800 - Date.now());
      wa2.send({ type: 'typing', roomId: room.id });
      await wb.waitForCount((f) => f.type === 'typing' && f.roomId === room.id, 2, 5_000);
      await barrier(wb);
      expect(typingIn(wb).map((f) => f.userId)).toEqual([alice.user.id, alice.user.id]);
      expect(typingIn(wa1)).toEqual([]);
    }, 30_000);
  });
}
