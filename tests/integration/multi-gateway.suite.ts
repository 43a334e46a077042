/**
 * Protocol v1 across several connection gateways: the people of one room hold
 * sockets on different gateways, which fan out through Redis. Tested only
 * through the public HTTP and WebSocket protocol, plus a way to crash a
 * gateway (SIGKILL) and start it again. Run against the real stack with two
 * gateways (tests/integration/real-stack.test.ts).
 *
 * Every wait is for a condition, bounded; "nothing arrived" is shown with a
 * ping/pong barrier on the same socket after a witness on the same gateway
 * has received the frame in question.
 */

import { type Account, Api, WsClient } from '@parley/perf/client';
import type { Message, Room, ServerFrame } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type AckFrame = Extract<ServerFrame, { type: 'ack' }>;
type MessageFrame = Extract<ServerFrame, { type: 'message' }>;
type RoomFrame = Extract<ServerFrame, { type: 'room' }>;
type SyncFrame = Extract<ServerFrame, { type: 'sync' }>;

export interface MultiGatewayTarget {
  /** At least two gateways of one deployment, in a fixed order. */
  gatewayUrls: string[];
  /** Crashes gateway `index` (SIGKILL: no close frames, no drain); resolves when it is gone. */
  killGateway(index: number): Promise<void>;
  /** Starts gateway `index` again; resolves when it is ready. */
  startGateway(index: number): Promise<void>;
  /** The gateways' PRESENCE_TTL_MS: a killed gateway's users go offline within TTL + TTL/6 + 1 s. */
  presenceTtlMs: number;
}

/** What a socket has seen of one room's messages, in arrival order: its own (acks) and others'. */
interface Seen {
  seq: number;
  id: string;
  clientMsgId: string;
  via: 'ack' | 'message';
}

const seenIn = (ws: WsClient, roomId: string): Seen[] =>
  ws.frames.flatMap((f): Seen[] => {
    if (f.type === 'ack' && f.roomId === roomId)
      return [{ seq: f.seq, id: f.id, clientMsgId: f.clientMsgId, via: 'ack' }];
    if (f.type === 'message' && f.message.roomId === roomId) {
      const m = f.message;
      return [{ seq: m.seq, id: m.id, clientMsgId: m.clientMsgId, via: 'message' }];
    }
    return [];
  });

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

const isAckOf = (clientMsgId: string) => (f: ServerFrame) =>
  f.type === 'ack' && f.clientMsgId === clientMsgId;
const isMessageOf = (clientMsgId: string) => (f: ServerFrame) =>
  f.type === 'message' && f.message.clientMsgId === clientMsgId;
const isRoomEvent = (event: RoomFrame['event'], roomId: string) => (f: ServerFrame) =>
  f.type === 'room' && f.event === event && f.room.id === roomId;
const isPresenceOf = (userId: string, online: boolean) => (f: ServerFrame) =>
  f.type === 'presence' && f.users.some((u) => u.userId === userId && u.online === online);
/** Every presence change of `userId` a socket was told, in order. */
const presenceOf = (ws: WsClient, userId: string) =>
  ws.frames.flatMap((f) =>
    f.type === 'presence' ? f.users.filter((u) => u.userId === userId).map((u) => u.online) : [],
  );

export function describeMultiGatewaySuite(name: string, target: () => MultiGatewayTarget): void {
  describe(`protocol v1 across gateways — ${name}`, () => {
    let gw1: Api;
    let gw2: Api;
    const sockets: WsClient[] = [];
    /** Transport errors per socket ('error' events of the ws client). */
    const transportErrors = new Map<WsClient, Error[]>();
    let killed = false;

    const connect = async (api: Api, a: Account) => {
      const ws = await WsClient.connect(api, a.token);
      const errors: Error[] = [];
      transportErrors.set(ws, errors);
      ws.ws.on('error', (err) => errors.push(err));
      sockets.push(ws);
      return ws;
    };
    const createRoom = (api: Api, owner: Account, roomName: string, members: Account[]) =>
      api
        .call<{ room: Room }>('POST', '/api/v1/rooms', {
          token: owner.token,
          body: { name: roomName, memberIds: members.map((m) => m.user.id) },
        })
        .then((r) => r.room);
    /** The whole history of a room, ascending (pages of 100). */
    const historyOf = async (api: Api, a: Account, roomId: string): Promise<Message[]> => {
      const all: Message[] = [];
      for (;;) {
        const page = await api.call<{ messages: Message[]; hasMore: boolean }>(
          'GET',
          `/api/v1/rooms/${roomId}/messages?after=${all.at(-1)?.seq ?? 0}&limit=100`,
          { token: a.token },
        );
        all.push(...page.messages);
        if (!page.hasMore) return all;
      }
    };
    /** Resolves once every frame the server sent `ws` before this call has been received. */
    const barrier = async (ws: WsClient, ref: string) => {
      const from = ws.frames.length;
      ws.send({ type: 'ping', ref });
      await ws.next((f) => f.type === 'pong' && f.ref === ref, 15_000, from);
    };
    const sendText = (ws: WsClient, roomId: string, clientMsgId: string) =>
      ws.send({ type: 'send', roomId, clientMsgId, body: `text of ${clientMsgId}` });
    /** Sends one message and waits for its ack. */
    const say = async (ws: WsClient, roomId: string, clientMsgId: string) => {
      sendText(ws, roomId, clientMsgId);
      return ws.next<AckFrame>(isAckOf(clientMsgId), 30_000);
    };
    const expectUndisturbed = (...clients: WsClient[]) => {
      for (const ws of clients) {
        expect(ws.closed).toBeUndefined();
        expect(transportErrors.get(ws)).toEqual([]);
        expect(ws.frames.filter((f) => f.type === 'error')).toEqual([]);
      }
    };

    beforeAll(() => {
      const t = target();
      if (t.gatewayUrls.length < 2) throw new Error('this suite needs at least two gateways');
      gw1 = new Api(t.gatewayUrls[0] as string);
      gw2 = new Api(t.gatewayUrls[1] as string);
    });
    afterAll(async () => {
      for (const s of sockets) s.close();
      // A failed kill case must not leave the deployment one gateway short.
      if (killed) await target().startGateway(0);
    }, 120_000);

    it('two people on two gateways chat: acks, each other’s messages in order, gap-free, nothing doubled (50 + 50 concurrently)', async () => {
      const [ann, ben] = await Promise.all([gw1.signup('ann'), gw2.signup('ben')]);
      const room = await createRoom(gw1, ann, 'across', [ben]);
      const [wa, wb] = await Promise.all([connect(gw1, ann), connect(gw2, ben)]);

      // A conversation: each line reaches the other side before the answer is written.
      const first = await say(wa, room.id, 'a-hello');
      expect(first.seq).toBe(1);
      const got = await wb.next<MessageFrame>(isMessageOf('a-hello'));
      expect(got.message).toMatchObject({ id: first.id, seq: 1, senderId: ann.user.id });
      const reply = await say(wb, room.id, 'b-hello');
      expect(reply.seq).toBe(2);
      expect((await wa.next<MessageFrame>(isMessageOf('b-hello'))).message).toMatchObject({
        id: reply.id,
        seq: 2,
        senderId: ben.user.id,
      });

      // A burst from both sides at once.
      const N = 50;
      for (let i = 0; i < N; i++) {
        sendText(wa, room.id, `a-${i}`);
        sendText(wb, room.id, `b-${i}`);
      }
      const total = 2 + 2 * N;
      const inRoom = (f: ServerFrame) =>
        (f.type === 'ack' && f.roomId === room.id) ||
        (f.type === 'message' && f.message.roomId === room.id);
      await Promise.all([
        wa.waitForCount(inRoom, total, 60_000),
        wb.waitForCount(inRoom, total, 60_000),
      ]);
      // Both sockets are quiet now: anything doubled would have been sent before these pongs.
      await Promise.all([barrier(wa, 'a-done'), barrier(wb, 'b-done')]);
      expectUndisturbed(wa, wb);

      const history = await historyOf(gw2, ben, room.id);
      expect(history.map((m) => m.seq)).toEqual(range(1, total));
      const stored = new Map(history.map((m) => [m.seq, m]));
      for (const [ws, me, mine, theirs] of [
        [wa, 'a', ann, ben],
        [wb, 'b', ben, ann],
      ] as const) {
        const seen = seenIn(ws, room.id);
        // Every message exactly once, in seq order, as it was stored.
        expect(seen.map((s) => s.seq)).toEqual(range(1, total));
        for (const s of seen) {
          expect(stored.get(s.seq)).toMatchObject({ id: s.id, clientMsgId: s.clientMsgId });
          // Its own messages as acks, the other's as messages.
          const sender = stored.get(s.seq)?.senderId;
          expect(sender).toBe(s.via === 'ack' ? mine.user.id : theirs.user.id);
        }
        // Each sender's burst is stored, acked and delivered in the order it was sent.
        const acked = seen.filter((s) => s.via === 'ack').map((s) => s.clientMsgId);
        expect(acked).toEqual([`${me}-hello`, ...range(0, N - 1).map((i) => `${me}-${i}`)]);
        const other = me === 'a' ? 'b' : 'a';
        const received = seen.filter((s) => s.via === 'message').map((s) => s.clientMsgId);
        expect(received).toEqual([
          `${other}-hello`,
          ...range(0, N - 1).map((i) => `${other}-${i}`),
        ]);
      }
    });

    it('room events cross gateways: a room created and an invite on gateway 1 reach sockets on gateway 2, and so does a leave; the leaver gets no more messages', async () => {
      const [ann, ben, cat] = await Promise.all([
        gw1.signup('ann'),
        gw2.signup('ben'),
        gw2.signup('cat'),
      ]);
      const [wa, wb, wc] = await Promise.all([
        connect(gw1, ann),
        connect(gw2, ben),
        connect(gw2, cat),
      ]);

      // Created on gateway 1 with Ben: the `room` frame reaches his socket on gateway 2.
      const room = await createRoom(gw1, ann, 'events', [ben]);
      const created = await wb.next<RoomFrame>(isRoomEvent('created', room.id));
      expect(created.room).toMatchObject({ id: room.id, name: 'events', memberCount: 2 });
      await wa.next(isRoomEvent('created', room.id));

      // Invited on gateway 1: Cat's socket on gateway 2 hears it.
      await gw1.call('POST', `/api/v1/rooms/${room.id}/members`, {
        token: ann.token,
        body: { userId: cat.user.id },
      });
      const joined = await wc.next<RoomFrame>(isRoomEvent('joined', room.id));
      expect(joined.room).toMatchObject({ id: room.id, memberCount: 3 });

      // After its room frame, a socket gets everything sent to the room.
      const hello = await say(wa, room.id, 'hello-all');
      for (const ws of [wb, wc]) {
        expect((await ws.next<MessageFrame>(isMessageOf('hello-all'))).message).toMatchObject({
          id: hello.id,
          seq: hello.seq,
        });
      }
      const fromCat = await say(wc, room.id, 'cat-here');
      await Promise.all([wa.next(isMessageOf('cat-here')), wb.next(isMessageOf('cat-here'))]);

      // Ben leaves through gateway 1 (another device); his socket on gateway 2 hears it.
      const res = await fetch(`${gw1.baseUrl}/api/v1/rooms/${room.id}/members/me`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ben.token}` },
      });
      expect(res.status).toBe(204);
      const left = await wb.next<RoomFrame>(isRoomEvent('left', room.id));
      expect(left.room).toMatchObject({ id: room.id, memberCount: 2 });

      // Gateway 2 still follows the room for Cat, but no longer delivers it to Ben.
      const afterLeave = await say(wa, room.id, 'after-leave');
      expect(afterLeave.seq).toBe(fromCat.seq + 1);
      await wc.next(isMessageOf('after-leave'));
      await barrier(wb, 'ben-after-leave');
      expect(wb.frames.some(isMessageOf('after-leave'))).toBe(false);
      expect(seenIn(wb, room.id).map((s) => s.clientMsgId)).toEqual(['hello-all', 'cat-here']);
      expect(seenIn(wc, room.id).map((s) => s.seq)).toEqual(range(hello.seq, afterLeave.seq));
      expectUndisturbed(wa, wb, wc);
    });

    it('a crashed gateway (kill -9) leaves the other gateway’s sockets untouched; its users reconnect elsewhere and sync exactly what they missed; it comes back', async () => {
      const t = target();
      const [ann, ben, cat] = await Promise.all([
        gw1.signup('ann'),
        gw2.signup('ben'),
        gw2.signup('cat'),
      ]);
      const room = await createRoom(gw1, ann, 'survivors', [ben, cat]);
      const wa = await connect(gw1, ann);
      const [wb, wc] = await Promise.all([connect(gw2, ben), connect(gw2, cat)]);
      const inRoom = (f: ServerFrame) =>
        (f.type === 'ack' && f.roomId === room.id) ||
        (f.type === 'message' && f.message.roomId === room.id);

      // Everyone talks once; everyone sees all three.
      for (const [ws, id] of [
        [wa, 'a-0'],
        [wb, 'b-0'],
        [wc, 'c-0'],
      ] as const)
        await say(ws, room.id, id);
      await Promise.all([wa, wb, wc].map((ws) => ws.waitForCount(inRoom, 3)));

      // Ann writes a few more and gateway 1 dies under them: three, and once the first is stored
      // three more right before the crash. Each is somewhere between her socket and the database
      // (typically the first three stored but not all acked, the last three not stored); every
      // outcome must end the same way once she retries.
      const inflight = range(1, 6).map((i) => `a-${i}`);
      for (const id of inflight.slice(0, 3)) sendText(wa, room.id, id);
      await wb.next(isMessageOf('a-1'));
      for (const id of inflight.slice(3)) sendText(wa, room.id, id);
      await t.killGateway(0);
      killed = true;
      // No close frame from a dead process: an abnormal close.
      expect((await wa.waitClosed()).code).toBe(1006);
      const annLastSeq = Math.max(...seenIn(wa, room.id).map((s) => s.seq));
      const annAcked = new Set(
        seenIn(wa, room.id)
          .filter((s) => s.via === 'ack')
          .map((s) => s.clientMsgId),
      );

      // Ben and Cat, on gateway 2, go on as if nothing happened.
      const K = 10;
      for (let i = 1; i <= K; i++) {
        sendText(wb, room.id, `b-${i}`);
        sendText(wc, room.id, `c-${i}`);
      }
      await Promise.all(
        range(1, K).flatMap((i) => [
          wb.next(isAckOf(`b-${i}`), 30_000),
          wc.next(isAckOf(`c-${i}`), 30_000),
          wb.next(isMessageOf(`c-${i}`), 30_000),
          wc.next(isMessageOf(`b-${i}`), 30_000),
        ]),
      );
      const afterCrash = await historyOf(gw2, ben, room.id);
      const lastSeq = afterCrash.at(-1)?.seq ?? 0;
      expect(afterCrash.map((m) => m.seq)).toEqual(range(1, lastSeq));
      // Those of Ann's last sends that gateway 1 passed on before it died reached them too, in seq
      // order (they may land after Ben's first: per-sender order is all a room promises).
      await Promise.all([wb, wc].map((ws) => ws.waitForCount(inRoom, lastSeq)));
      await Promise.all([barrier(wb, 'ben-after-crash'), barrier(wc, 'cat-after-crash')]);
      for (const ws of [wb, wc]) {
        expect(seenIn(ws, room.id).map((s) => ({ seq: s.seq, id: s.id }))).toEqual(
          afterCrash.map((m) => ({ seq: m.seq, id: m.id })),
        );
      }
      expectUndisturbed(wb, wc);

      // Ann reconnects to gateway 2 and syncs from the last seq she saw: exactly what she missed.
      const wa2 = await connect(gw2, ann);
      wa2.send({ type: 'sync', rooms: { [room.id]: annLastSeq } });
      const sync = await wa2.next<SyncFrame>((f) => f.type === 'sync' && f.roomId === room.id);
      expect(sync.complete).toBe(true);
      expect(sync.messages).toEqual(afterCrash.filter((m) => m.seq > annLastSeq));
      // Her sends that were never acked are retried with the same clientMsgId (safe by
      // protocol): each is acked once, and those already stored keep their id and seq.
      const unacked = inflight.filter((id) => !annAcked.has(id));
      for (const id of unacked) sendText(wa2, room.id, id);
      const acks = await Promise.all(unacked.map((id) => wa2.next<AckFrame>(isAckOf(id), 30_000)));
      const storedBefore = new Map(afterCrash.map((m) => [m.clientMsgId, m]));
      for (const ack of acks) {
        const before = storedBefore.get(ack.clientMsgId);
        if (before) expect(ack).toMatchObject({ id: before.id, seq: before.seq });
      }
      const final = await historyOf(gw2, ann, room.id);
      expect(final.map((m) => m.seq)).toEqual(range(1, final.length));
      const ids = final.map((m) => m.clientMsgId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => id.startsWith('a-'))).toEqual(['a-0', ...inflight]);
      expect(ids.filter((id) => id.startsWith('b-'))).toEqual(range(0, K).map((i) => `b-${i}`));
      expect(ids.filter((id) => id.startsWith('c-'))).toEqual(range(0, K).map((i) => `c-${i}`));
      // Ben and Cat got the retried ones live, once each, in order, still undisturbed.
      await Promise.all([wb, wc].map((ws) => ws.waitForCount(inRoom, final.length)));
      await Promise.all([barrier(wb, 'ben-after-retry'), barrier(wc, 'cat-after-retry')]);
      for (const ws of [wb, wc])
        expect(seenIn(ws, room.id).map((s) => s.seq)).toEqual(range(1, final.length));
      expectUndisturbed(wb, wc, wa2);

      // Gateway 1 comes back and works: Ann's new socket there talks with both gateways.
      await t.startGateway(0);
      killed = false;
      const wa3 = await connect(gw1, ann);
      const back = await say(wa3, room.id, 'a-back');
      expect(back.seq).toBe(final.length + 1);
      for (const ws of [wb, wc, wa2])
        expect((await ws.next<MessageFrame>(isMessageOf('a-back'))).message).toMatchObject({
          id: back.id,
          seq: back.seq,
        });
      const answer = await say(wb, room.id, 'b-welcome-back');
      expect(answer.seq).toBe(back.seq + 1);
      await wa3.next(isMessageOf('b-welcome-back'));
      expectUndisturbed(wb, wc, wa2, wa3);
    }, 120_000);

    it('presence: the users of a killed gateway (kill -9) go offline for the others within PRESENCE_TTL_MS + TTL/6 + the 1 s flush, and not before the TTL can have run out', async () => {
      const t = target();
      // A failed case above may have left gateway 1 down.
      if (killed) {
        await t.startGateway(0);
        killed = false;
      }
      const ttl = t.presenceTtlMs;
      const [ann, ben] = await Promise.all([gw2.signup('ann'), gw1.signup('ben')]);
      const room = await createRoom(gw2, ann, 'vanishing', [ben]);
      const wa = await connect(gw2, ann);
      const wb = await connect(gw1, ben);
      await wa.next(isPresenceOf(ben.user.id, true), 5_000);
      const members = async () => {
        const r = await gw2.call<{ members: { id: string; online?: boolean }[] }>(
          'GET',
          `/api/v1/rooms/${room.id}`,
          { token: ann.token },
        );
        return r.members.find((m) => m.id === ben.user.id)?.online;
      };
      expect(await members()).toBe(true);

      // Gateway 1 cannot say goodbye: only its missing beats can take Ben offline. Its last beat
      // was at most TTL/3 before the kill, so the sweep can call it dead no sooner than
      // TTL − TTL/3 after it, and no later than TTL + TTL/6 (then the 1 s flush).
      const killedAt = Date.now();
      await t.killGateway(0);
      killed = true;
      await wa.next(isPresenceOf(ben.user.id, false), 10_000);
      const elapsed = Date.now() - killedAt;
      expect(elapsed).toBeGreaterThanOrEqual(ttl - ttl / 3 - 200);
      // 1 s of slack over the bound for timers, Redis round trips and the kill itself.
      expect(elapsed).toBeLessThanOrEqual(ttl + ttl / 6 + 1_000 + 1_000);
      expect(presenceOf(wa, ben.user.id)).toEqual([true, false]);
      expect(await members()).toBe(false);
      expect((await wb.waitClosed()).code).toBe(1006);
      expectUndisturbed(wa);

      await t.startGateway(0);
      killed = false;
    }, 60_000);

    it('presence: two tabs on two gateways keep a user online until both close', async () => {
      const t = target();
      if (killed) {
        await t.startGateway(0);
        killed = false;
      }
      const [ann, ben] = await Promise.all([gw2.signup('ann'), gw1.signup('ben')]);
      const room = await createRoom(gw2, ann, 'two-tabs', [ben]);
      const wa = await connect(gw2, ann);
      const wb1 = await connect(gw1, ben);
      await wa.next(isPresenceOf(ben.user.id, true), 5_000);
      const wb2 = await connect(gw2, ben);
      const online = async () => {
        const r = await gw1.call<{ members: { id: string; online?: boolean }[] }>(
          'GET',
          `/api/v1/rooms/${room.id}`,
          { token: ann.token },
        );
        return r.members.find((m) => m.id === ben.user.id)?.online;
      };

      // The tab on gateway 1 closes: Ben is still online on gateway 2. Nothing to wait for but
      // time: two presence flushes and more.
      wb1.close();
      await wb1.waitClosed();
      await new Promise((r) => setTimeout(r, 2_500));
      expect(presenceOf(wa, ben.user.id)).toEqual([true]);
      expect(await online()).toBe(true);

      // The last tab closes: offline within a flush.
      wb2.close();
      await wb2.waitClosed();
      await wa.next(isPresenceOf(ben.user.id, false), 3_000);
      expect(presenceOf(wa, ben.user.id)).toEqual([true, false]);
      expect(await online()).toBe(false);
      expectUndisturbed(wa);
    }, 30_000);
  });
}
