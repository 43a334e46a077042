/**
 * The protocol-v1 behaviour every deployment of Parley must show, tested
 * only through the gateway's public HTTP and WebSocket protocol. Run against
 * the real stack (tests/integration/real-stack.test.ts) and against the
 * embedded mode (connection-gateway/src/embedded.test.ts).
 */

import { randomBytes } from 'node:crypto';
import { type Account, Api, HttpError, WsClient } from '@parley/perf/client';
import { LIMITS, type Message, type Room, type ServerFrame } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type AckFrame = Extract<ServerFrame, { type: 'ack' }>;
type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;
type SyncFrame = Extract<ServerFrame, { type: 'sync' }>;
type MessageFrame = Extract<ServerFrame, { type: 'message' }>;

export function describeProtocolSuite(name: string, baseUrl: () => string): void {
  describe(`protocol v1 — ${name}`, () => {
    let api: Api;
    let alice: Account;
    let bob: Account;
    let carol: Account;
    let room: Room;
    const sockets: WsClient[] = [];

    const connect = async (a: Account) => {
      const ws = await WsClient.connect(api, a.token);
      sockets.push(ws);
      return ws;
    };
    const history = (a: Account, roomId: string, q: string) =>
      api.call<{ messages: Message[]; hasMore: boolean }>(
        'GET',
        `/api/v1/rooms/${roomId}/messages?${q}`,
        { token: a.token },
      );

    beforeAll(async () => {
      api = new Api(baseUrl());
      [alice, bob, carol] = await Promise.all([
        api.signup('alice'),
        api.signup('bob'),
        api.signup('carol'),
      ]);
      const created = await api.call<{ room: Room }>('POST', '/api/v1/rooms', {
        token: alice.token,
        body: { name: 'general', memberIds: [bob.user.id] },
      });
      room = created.room;
    });
    afterAll(() => {
      for (const s of sockets) s.close();
    });

    it('creates a room with its members and lists it for each of them', async () => {
      expect(room).toMatchObject({ name: 'general', kind: 'group', memberCount: 2, lastSeq: 0 });
      const bobs = await api.call<{ rooms: Room[] }>('GET', '/api/v1/rooms', { token: bob.token });
      expect(bobs.rooms.map((r) => r.id)).toContain(room.id);
      const detail = await api.call<{ room: Room; members: { id: string }[] }>(
        'GET',
        `/api/v1/rooms/${room.id}`,
        { token: alice.token },
      );
      expect(detail.members.map((m) => m.id).sort()).toEqual([alice.user.id, bob.user.id].sort());
    });

    it('two senders × 150 concurrent messages: ordered, gap-free seqs, nothing lost or doubled, each sender in order', async () => {
      const [wa, wb] = await Promise.all([connect(alice), connect(bob)]);
      const N = 150;
      const sendAll = (ws: WsClient, who: string) => {
        for (let i = 0; i < N; i++)
          ws.send({
            type: 'send',
            roomId: room.id,
            clientMsgId: `${who}-${i}`,
            body: `${who} says ${i}`,
          });
      };
      sendAll(wa, 'a');
      sendAll(wb, 'b');
      const isAck = (f: ServerFrame) => f.type === 'ack' && f.roomId === room.id;
      const [acksA, acksB] = await Promise.all([
        wa.waitForCount(isAck, N, 60_000),
        wb.waitForCount(isAck, N, 60_000),
      ]);
      expect(wa.frames.filter((f) => f.type === 'error')).toEqual([]);
      expect(wb.frames.filter((f) => f.type === 'error')).toEqual([]);
      // Each receives the other's 150 as `message` frames, in seq order.
      const isMsg = (f: ServerFrame) => f.type === 'message' && f.message.roomId === room.id;
      const [inA, inB] = await Promise.all([
        wa.waitForCount(isMsg, N, 60_000),
        wb.waitForCount(isMsg, N, 60_000),
      ]);
      for (const frames of [inA, inB]) {
        const seqs = (frames as MessageFrame[]).map((f) => f.message.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
      const page1 = await history(alice, room.id, 'after=0&limit=100');
      const page2 = await history(alice, room.id, 'after=100&limit=100');
      const page3 = await history(alice, room.id, 'after=200&limit=100');
      const all = [...page1.messages, ...page2.messages, ...page3.messages];
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 2 * N }, (_, i) => i + 1));
      expect(page3.hasMore).toBe(false);
      expect(new Set(all.map((m) => m.clientMsgId)).size).toBe(2 * N);
      for (const who of ['a', 'b']) {
        const mine = all
          .filter((m) => m.clientMsgId.startsWith(`${who}-`))
          .map((m) => Number(m.clientMsgId.slice(2)));
        expect(mine).toEqual(Array.from({ length: N }, (_, i) => i));
      }
      // Acks carry the stored seq and id.
      const bySeq = new Map(all.map((m) => [m.clientMsgId, m]));
      for (const ack of [...acksA, ...acksB] as AckFrame[]) {
        expect(bySeq.get(ack.clientMsgId)).toMatchObject({ id: ack.id, seq: ack.seq });
      }
      wa.close();
      wb.close();
    });

    it('a retried clientMsgId stores one message and is acked again with the same id and seq', async () => {
      const ws = await connect(alice);
      const frame = { type: 'send', roomId: room.id, clientMsgId: 'retry-1', body: 'only once' };
      ws.send(frame);
      const first = await ws.next<AckFrame>((f) => f.type === 'ack' && f.clientMsgId === 'retry-1');
      const from = ws.frames.length;
      ws.send(frame);
      const second = await ws.next<AckFrame>(
        (f) => f.type === 'ack' && f.clientMsgId === 'retry-1',
        15_000,
        from,
      );
      expect(second).toMatchObject({ id: first.id, seq: first.seq });
      const page = await history(alice, room.id, `after=${first.seq - 1}&limit=100`);
      expect(page.messages.filter((m) => m.clientMsgId === 'retry-1')).toHaveLength(1);
      ws.close();
    });

    it('refuses a send to a room the user is not in, and stores nothing', async () => {
      const ws = await connect(carol);
      const before = await history(alice, room.id, 'limit=1');
      ws.send({ type: 'send', roomId: room.id, clientMsgId: 'intruder-1', body: 'let me in' });
      const err = await ws.next<ErrorFrame>((f) => f.type === 'error');
      expect(err).toMatchObject({ code: 'not_member', ref: 'intruder-1' });
      await expect(history(carol, room.id, 'limit=10')).rejects.toMatchObject({ status: 403 });
      const after = await history(alice, room.id, 'limit=1');
      expect(after.messages.at(-1)?.seq).toBe(before.messages.at(-1)?.seq);
      ws.close();
    });

    it('refuses malformed and oversized frames without harm; the socket stays usable', async () => {
      const ws = await connect(alice);
      ws.send('this is not json');
      expect(await ws.next<ErrorFrame>((f) => f.type === 'error')).toMatchObject({
        code: 'malformed_frame',
      });
      let from = ws.frames.length;
      ws.send({ type: 'teleport', roomId: room.id });
      expect(await ws.next<ErrorFrame>((f) => f.type === 'error', 15_000, from)).toMatchObject({
        code: 'malformed_frame',
      });
      from = ws.frames.length;
      ws.send({
        type: 'send',
        roomId: room.id,
        clientMsgId: 'huge-1',
        body: 'x'.repeat(LIMITS.frameMaxBytes + 10),
      });
      expect(await ws.next<ErrorFrame>((f) => f.type === 'error', 15_000, from)).toMatchObject({
        code: 'frame_too_large',
      });
      from = ws.frames.length;
      ws.send({
        type: 'send',
        roomId: room.id,
        clientMsgId: 'long-1',
        body: '가'.repeat(LIMITS.messageBodyMaxChars + 1),
      });
      expect(await ws.next<ErrorFrame>((f) => f.type === 'error', 15_000, from)).toMatchObject({
        code: 'body_too_long',
        ref: 'long-1',
      });
      from = ws.frames.length;
      ws.send({ type: 'ping', ref: 'still-there' });
      expect(await ws.next((f) => f.type === 'pong', 15_000, from)).toEqual({
        type: 'pong',
        ref: 'still-there',
      });
      ws.send({ type: 'send', roomId: room.id, clientMsgId: 'after-abuse', body: 'still works' });
      await ws.next((f) => f.type === 'ack' && f.clientMsgId === 'after-abuse');
      const page = await history(alice, room.id, 'limit=100');
      expect(page.messages.some((m) => ['huge-1', 'long-1'].includes(m.clientMsgId))).toBe(false);
      expect(ws.closed).toBeUndefined();
      ws.close();
    });

    it('closes a socket that keeps sending refused frames (1008)', async () => {
      const ws = await connect(alice);
      for (let i = 0; i < 100 && !ws.closed; i++) ws.send('{bad');
      expect((await ws.waitClosed()).code).toBe(1008);
    });

    it('after a reconnect, sync returns exactly the messages that were missed', async () => {
      const wb = await connect(bob);
      wb.send({ type: 'send', roomId: room.id, clientMsgId: 'before-drop', body: 'seen live' });
      const seen = await wb.next<AckFrame>(
        (f) => f.type === 'ack' && f.clientMsgId === 'before-drop',
      );
      wb.close();
      await wb.waitClosed();
      const wa = await connect(alice);
      const missed: number[] = [];
      for (let i = 0; i < 5; i++) {
        wa.send({
          type: 'send',
          roomId: room.id,
          clientMsgId: `while-away-${i}`,
          body: `missed ${i}`,
        });
        missed.push(
          (await wa.next<AckFrame>((f) => f.type === 'ack' && f.clientMsgId === `while-away-${i}`))
            .seq,
        );
      }
      const again = await connect(bob);
      again.send({ type: 'sync', rooms: { [room.id]: seen.seq } });
      const sync = await again.next<SyncFrame>((f) => f.type === 'sync' && f.roomId === room.id);
      expect(sync.complete).toBe(true);
      expect(sync.messages.map((m) => m.seq)).toEqual(missed);
      expect(sync.messages.map((m) => m.clientMsgId)).toEqual(
        missed.map((_, i) => `while-away-${i}`),
      );
      wa.close();
      again.close();
    });

    it('creates exactly one DM for a pair under concurrent requests from both sides', async () => {
      const [dave, erin] = await Promise.all([api.signup('dave'), api.signup('erin')]);
      const calls = Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? api.call<{ room: Room }>('POST', '/api/v1/dms', {
              token: dave.token,
              body: { userId: erin.user.id },
            })
          : api.call<{ room: Room }>('POST', '/api/v1/dms', {
              token: erin.token,
              body: { userId: dave.user.id },
            }),
      );
      const results = await Promise.all(calls);
      expect(new Set(results.map((r) => r.room.id)).size).toBe(1);
      expect(results[0]?.room).toMatchObject({ kind: 'dm', memberCount: 2 });
      const daves = await api.call<{ rooms: Room[] }>('GET', '/api/v1/rooms', {
        token: dave.token,
      });
      expect(daves.rooms.filter((r) => r.kind === 'dm')).toHaveLength(1);
    });

    it('pages history backwards and forwards', async () => {
      const [u1, u2] = await Promise.all([api.signup('pager'), api.signup('reader')]);
      const { room: r } = await api.call<{ room: Room }>('POST', '/api/v1/rooms', {
        token: u1.token,
        body: { name: 'paging', memberIds: [u2.user.id] },
      });
      const ws = await connect(u1);
      for (let i = 1; i <= 25; i++)
        ws.send({ type: 'send', roomId: r.id, clientMsgId: `p-${i}`, body: `page ${i}` });
      await ws.waitForCount((f) => f.type === 'ack' && f.roomId === r.id, 25);
      const latest = await history(u2, r.id, 'limit=10');
      expect(latest.messages.map((m) => m.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
      expect(latest.hasMore).toBe(true);
      const older = await history(u2, r.id, 'before=16&limit=10');
      expect(older.messages.map((m) => m.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      const oldest = await history(u2, r.id, 'before=6&limit=10');
      expect(oldest.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(oldest.hasMore).toBe(false);
      const forward = await history(u2, r.id, 'after=20&limit=10');
      expect(forward.messages.map((m) => m.seq)).toEqual([21, 22, 23, 24, 25]);
      expect(forward.hasMore).toBe(false);
      await expect(history(u2, r.id, 'before=5&after=1')).rejects.toMatchObject({ status: 400 });
      ws.close();
    });

    it('invites and leaves: room events reach the member, and a leaver can no longer send', async () => {
      const [owner, guest] = await Promise.all([api.signup('owner'), api.signup('guest')]);
      const { room: r } = await api.call<{ room: Room }>('POST', '/api/v1/rooms', {
        token: owner.token,
        body: { name: 'club' },
      });
      const wg = await connect(guest);
      const invited = await api.call<{ room: Room }>('POST', `/api/v1/rooms/${r.id}/members`, {
        token: owner.token,
        body: { userId: guest.user.id },
      });
      expect(invited.room.memberCount).toBe(2);
      await wg.next((f) => f.type === 'room' && f.event === 'joined' && f.room.id === r.id);
      wg.send({ type: 'send', roomId: r.id, clientMsgId: 'g-1', body: 'hi all' });
      await wg.next((f) => f.type === 'ack' && f.clientMsgId === 'g-1');
      const res = await fetch(`${api.baseUrl}/api/v1/rooms/${r.id}/members/me`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${guest.token}` },
      });
      expect(res.status).toBe(204);
      await wg.next((f) => f.type === 'room' && f.event === 'left' && f.room.id === r.id);
      wg.send({ type: 'send', roomId: r.id, clientMsgId: 'g-2', body: 'gone' });
      expect(await wg.next<ErrorFrame>((f) => f.type === 'error' && f.ref === 'g-2')).toMatchObject(
        { code: 'not_member' },
      );
      await expect(
        api.call('POST', `/api/v1/rooms/${r.id}/members`, {
          token: guest.token,
          body: { userId: guest.user.id },
        }),
      ).rejects.toMatchObject({ status: 403 });
      wg.close();
    });

    it('search finds sent messages by part of a Korean word and by English stem, only in the searcher’s rooms, not after leaving', async () => {
      const [ann, ben, eve] = await Promise.all([
        api.signup('ann'),
        api.signup('ben'),
        api.signup('eve'),
      ]);
      const mk = (a: Account, name: string, memberIds: string[]) =>
        api.call<{ room: Room }>('POST', '/api/v1/rooms', {
          token: a.token,
          body: { name, memberIds },
        });
      const [{ room: shared }, { room: secret }] = await Promise.all([
        mk(ann, 'plans', [ben.user.id]),
        mk(eve, 'secret', []),
      ]);
      const [wa, we] = await Promise.all([connect(ann), connect(eve)]);
      wa.send({
        type: 'send',
        roomId: shared.id,
        clientMsgId: 's-1',
        body: '프로젝트 회의는 금요일, Meetings moved',
      });
      we.send({
        type: 'send',
        roomId: secret.id,
        clientMsgId: 's-2',
        body: '비밀 회의 secret meetings',
      });
      await wa.next((f) => f.type === 'ack' && f.clientMsgId === 's-1');
      await we.next((f) => f.type === 'ack' && f.clientMsgId === 's-2');

      type Found = { hits: { message: Message; highlight: { text: string; match: boolean }[] }[] };
      const search = (a: Account, query: Record<string, string>) =>
        api.call<Found>('GET', `/api/v1/search?${new URLSearchParams(query)}`, { token: a.token });
      // Indexing is asynchronous (message.created → Kafka → message-index), and a new consumer
      // group first works through what the topic already holds: wait until it is searchable.
      const until = async (a: Account, q: string, count: number) => {
        const deadline = Date.now() + 45_000;
        for (;;) {
          const found = await search(a, { q });
          if (found.hits.length >= count || Date.now() > deadline) return found;
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const forBen = await until(ben, '회의', 1);
      expect(forBen.hits.map((h) => h.message.body)).toEqual([
        '프로젝트 회의는 금요일, Meetings moved',
      ]);
      expect(forBen.hits[0]?.highlight.filter((h) => h.match).map((h) => h.text)).toEqual(['회의']);
      expect((await until(ben, 'meeting', 1)).hits.map((h) => h.message.roomId)).toEqual([
        shared.id,
      ]);
      const forEve = await until(eve, '회의', 1);
      expect(forEve.hits.map((h) => h.message.roomId)).toEqual([secret.id]);
      await expect(search(ben, { q: '회의', roomId: secret.id })).rejects.toMatchObject({
        status: 403,
      });
      for (const q of ['', '   ', '!!!', 'x'.repeat(500)]) {
        await expect(search(ben, { q })).rejects.toMatchObject({ status: 400 });
      }
      expect((await search(ben, { q: '회의 AND (meet*' })).hits).toEqual([]);

      const left = await fetch(`${api.baseUrl}/api/v1/rooms/${shared.id}/members/me`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ben.token}` },
      });
      expect(left.status).toBe(204);
      expect((await search(ben, { q: '회의' })).hits).toEqual([]);
      expect((await search(ann, { q: '회의' })).hits).toHaveLength(1);
      wa.close();
      we.close();
    }, 90_000);

    it('refuses an oversized HTTP body with 413 payload_too_large, before reading it', async () => {
      const res = await fetch(`${api.baseUrl}/api/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'big', password: 'x'.repeat(100_000) }),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'payload_too_large',
      );
    });

    it('answers an unknown API route with a JSON 404, never the web client', async () => {
      const res = await fetch(`${api.baseUrl}/api/v1/nothing-here`, {
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    });

    it('answers a wrong method on an API path 405 with Allow, and keeps /metrics off this port', async () => {
      for (const [method, path, allow] of [
        ['PUT', '/api/v1/rooms', 'GET, HEAD, POST, OPTIONS'],
        ['DELETE', '/api/v1/me', 'GET, HEAD, OPTIONS'],
        ['GET', '/api/v1/auth/login', 'POST, OPTIONS'],
      ] as const) {
        const res = await fetch(`${api.baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${alice.token}` },
        });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe(allow);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
          'method_not_allowed',
        );
      }
      // /metrics is on each process's private METRICS_PORT; the web client's stamp is never served.
      for (const path of ['/metrics', '/.source-hash']) {
        const res = await fetch(`${api.baseUrl}${path}`);
        expect(res.status, path).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
      }
    });

    it('refuses a bad token at the handshake (401) and a foreign Origin (403)', async () => {
      expect(await WsClient.handshakeStatus(`${api.wsUrl()}?token=not-a-token`)).toBe(401);
      expect(await WsClient.handshakeStatus(api.wsUrl())).toBe(401);
      expect(
        await WsClient.handshakeStatus(`${api.wsUrl()}?token=${alice.token}`, {
          origin: 'https://evil.example',
        }),
      ).toBe(403);
      expect(
        await WsClient.handshakeStatus(api.wsUrl(), {
          protocols: ['parley.v1', `bearer.${alice.token}`],
        }),
      ).toBe(101);
      await expect(api.call('GET', '/api/v1/me', { token: 'nope' })).rejects.toBeInstanceOf(
        HttpError,
      );
    });

    it('refuses a handshake offering only bearer.<token> (400), so the token is never echoed', async () => {
      expect(
        await WsClient.handshakeStatus(api.wsUrl(), { protocols: [`bearer.${alice.token}`] }),
      ).toBe(400);
    });

    it('refuses a weak password at sign-up with 400 weak_password that says why', async () => {
      const username = `weak_${randomBytes(4).toString('hex')}`;
      for (const password of ['password', '12345678', '        ', username, 'abcdefgh']) {
        const res = await fetch(`${api.baseUrl}/api/v1/auth/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
        });
        expect(res.status, password).toBe(400);
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        expect(error.code).toBe('weak_password');
        expect(error.message).toContain('password');
      }
    });

    it('throttles failed logins per username and address (429 + Retry-After), before checking the password', async () => {
      const login = (username: string, password: string) =>
        fetch(`${api.baseUrl}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
        });
      const victim = await api.signup('throttled', 'the right passphrase');
      for (let i = 0; i < 5; i++) {
        expect((await login(victim.user.username, `wrong guess ${i}`)).status).toBe(401);
      }
      const refused = await login(victim.user.username, 'wrong guess 5');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'rate_limited',
      );
      // Refused before the password is looked at: the right one waits too, from this address.
      expect((await login(victim.user.username, 'the right passphrase')).status).toBe(429);
      // Another account from the same address is not affected.
      expect((await login(`nobody_${randomBytes(4).toString('hex')}`, 'a guess')).status).toBe(401);
    });
  });
}
