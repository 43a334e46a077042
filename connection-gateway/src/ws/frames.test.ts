import type { ParleyEvent } from '@parley/eventing';
import { MemoryFanout } from '@parley/eventing';
import { LIMITS, type Message, type ServerFrame } from '@parley/protocol';
import { createLogger, type ServiceClient } from '@parley/runtime';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type BudgetLimits, UserBudgets } from '../budgets';
import { GatewayLimitsSchema } from '../config';
import { KeyedBuckets } from '../middleware/http-rate-limit';
import { type FrameDeps, handleFrame } from './frames';
import { Session, type SessionLimits, type SocketLike } from './session';

type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;
type SyncFrame = Extract<ServerFrame, { type: 'sync' }>;

class FakeSocket implements SocketLike {
  frames: ServerFrame[] = [];
  bytes = 0;
  closedWith: number | undefined;
  bufferedAmount = 0;
  send(data: string) {
    this.bytes += Buffer.byteLength(data);
    this.frames.push(JSON.parse(data) as ServerFrame);
  }
  close(code: number) {
    this.closedWith = code;
  }
  errors(): ErrorFrame[] {
    return this.frames.filter((f): f is ErrorFrame => f.type === 'error');
  }
}

/** A room of `n` messages of 4,000 characters, as the messages function pages them. */
function roomOf(roomId: string, n: number): Message[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `m_${roomId}_${i + 1}`,
    roomId,
    seq: i + 1,
    senderId: 'u_a',
    body: `${i + 1} `.padEnd(4000, 'x'),
    ts: 1_700_000_000_000 + i,
    clientMsgId: `c${i + 1}`,
  }));
}

function setup(
  opts: {
    budgets?: Partial<BudgetLimits>;
    session?: Partial<SessionLimits>;
    rooms?: string[];
  } = {},
) {
  let now = 0;
  const clock = { advance: (ms: number) => (now += ms) };
  const rooms = new Map((opts.rooms ?? ['r_1', 'r_2']).map((r) => [r, roomOf(r, 200)]));
  const emitted: ParleyEvent[] = [];
  const messages: ServiceClient = {
    async getJson<T>(path: string) {
      const sum = path.match(/^\/internal\/rooms\/summaries\?ids=([^&]+)$/);
      if (sum) {
        const ids = decodeURIComponent(sum[1] as string).split(',');
        const out = Object.fromEntries(
          ids.filter((id) => rooms.has(id)).map((id) => [id, { lastSeq: rooms.get(id)?.length }]),
        );
        return { rooms: out } as T;
      }
      const m = path.match(/^\/internal\/rooms\/([^/]+)\/messages\?after=(\d+)&limit=(\d+)$/);
      if (!m) throw new Error(`unexpected ${path}`);
      const all = rooms.get(m[1] as string) ?? [];
      const after = all.filter((x) => x.seq > Number(m[2]));
      const page = after.slice(0, Number(m[3]));
      return { messages: page, hasMore: after.length > page.length } as T;
    },
    request: () => Promise.reject(new Error('not used')),
  };
  const budgets = new UserBudgets({ ...GatewayLimitsSchema.parse({}), ...opts.budgets }, () => now);
  const deps: FrameDeps = {
    typing: new KeyedBuckets(1000 / LIMITS.typingThrottleMs, 1),
    commands: {
      async emit(e) {
        emitted.push(e);
      },
    },
    fanout: new MemoryFanout(),
    isMember: async (roomId) => rooms.has(roomId),
    messages,
    log: createLogger('test', 'silent'),
    refused: new Counter({
      name: 'refused',
      help: 'h',
      labelNames: ['code'],
      registers: [new Registry()],
    }),
    budgets,
  };
  const socket = (userId = 'u_a') => {
    const ws = new FakeSocket();
    const s = new Session(`s_${Math.random()}`, userId, 0, ws, {
      perSecond: 1_000_000,
      burst: 1_000_000,
      strikes: 20,
      ...opts.session,
    });
    s.ready = true;
    const frame = (f: unknown) => {
      const text = typeof f === 'string' ? f : JSON.stringify(f);
      return handleFrame(s, text, Buffer.byteLength(text), deps);
    };
    return { ws, s, frame };
  };
  return { socket, clock, emitted, budgets, deps };
}

describe('sync within the history byte budget', () => {
  it('ten sockets of one user syncing a large room share one byte budget (the amplification of issue 10)', async () => {
    const { socket } = setup({
      budgets: { RATE_HISTORY_BYTES_BURST: 4 * 2 ** 20, RATE_SYNC_BURST: 1000 },
    });
    const sockets = Array.from({ length: 10 }, () => socket('u_a'));
    // 10 sockets × 20 syncs of a 200 × 4,000-character room: ~16 MB asked, no time passing.
    for (let round = 0; round < 20; round++)
      await Promise.all(sockets.map((x) => x.frame({ type: 'sync', rooms: { r_1: 0 } })));
    const sent = sockets.reduce((n, x) => n + x.ws.bytes, 0);
    const syncBytes = sockets.reduce(
      (n, x) =>
        n +
        x.ws.frames
          .filter((f) => f.type === 'sync')
          .reduce((m, f) => m + Buffer.byteLength(JSON.stringify(f)), 0),
      0,
    );
    expect(syncBytes).toBeLessThanOrEqual(4 * 2 ** 20);
    expect(sent).toBeLessThan(4 * 2 ** 20 + 200 * 300); // plus the small rate_limited errors
    const refused = sockets.flatMap((x) => x.ws.errors());
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) {
      expect(e).toMatchObject({ code: 'rate_limited', ref: 'r_1' });
      expect(e.retryAfterMs).toBeGreaterThan(0);
    }
  });

  it('stops early in the room where the bytes run out (complete:false), refuses the rooms after it, and pages on later', async () => {
    const { socket, clock } = setup({
      budgets: { RATE_HISTORY_BYTES_PER_SEC: 500_000, RATE_HISTORY_BYTES_BURST: 500_000 },
    });
    const { ws, frame } = socket();
    await frame({ type: 'sync', rooms: { r_1: 0, r_2: 0 } });
    const [first, second] = ws.frames as [SyncFrame, ErrorFrame];
    expect(ws.frames).toHaveLength(2);
    expect(first).toMatchObject({ type: 'sync', roomId: 'r_1', complete: false });
    expect(first.messages.length).toBeGreaterThan(50);
    expect(first.messages.length).toBeLessThan(200);
    expect(first.messages.map((m) => m.seq)).toEqual(first.messages.map((_, i) => i + 1));
    expect(Buffer.byteLength(JSON.stringify(first))).toBeLessThanOrEqual(500_000);
    expect(second).toMatchObject({ type: 'error', code: 'rate_limited', ref: 'r_2' });
    expect(second.retryAfterMs).toBeGreaterThan(0);

    clock.advance(second.retryAfterMs ?? 0);
    clock.advance(1000);
    const last = first.messages.at(-1)?.seq ?? 0;
    await frame({ type: 'sync', rooms: { r_1: last } });
    const next = ws.frames[2] as SyncFrame;
    expect(next.messages[0]?.seq).toBe(last + 1);
  });

  it('labels a sync complete only when it holds every missed message', async () => {
    const { socket } = setup();
    const { ws, frame } = socket();
    await frame({ type: 'sync', rooms: { r_1: 150 } });
    const f = ws.frames[0] as SyncFrame;
    expect(f).toMatchObject({ type: 'sync', roomId: 'r_1', complete: true });
    expect(f.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i));
  });

  it('refuses a sync frame over the sync budget once, with retryAfterMs, reading nothing', async () => {
    const { socket } = setup({ budgets: { RATE_SYNC_PER_SEC: 1, RATE_SYNC_BURST: 1 } });
    const { ws, frame } = socket();
    await frame({ type: 'sync', rooms: { r_1: 199 } });
    await frame({ type: 'sync', rooms: { r_1: 199, r_2: 199 }, ref: 'again' });
    expect(ws.frames.map((f) => f.type)).toEqual(['sync', 'error']);
    expect(ws.frames[1]).toMatchObject({ code: 'rate_limited', ref: 'again', retryAfterMs: 1000 });
  });
});

describe('per-user budgets and rate_limited refusals', () => {
  it('shares the send budget across the sockets of one user; a refusal names the clientMsgId', async () => {
    const { socket, emitted } = setup({ budgets: { RATE_SEND_PER_SEC: 10, RATE_SEND_BURST: 3 } });
    const [a, b] = [socket('u_a'), socket('u_a')];
    const send = (x: typeof a, i: number) =>
      x.frame({ type: 'send', roomId: 'r_1', clientMsgId: `c-${i}`, body: 'hi' });
    await send(a, 1);
    await send(b, 2);
    await send(a, 3);
    await send(b, 4);
    expect(emitted).toHaveLength(3);
    expect(b.ws.errors()).toEqual([
      expect.objectContaining({ code: 'rate_limited', ref: 'c-4', retryAfterMs: 100 }),
    ]);
  });

  it('refuses frames past the user budget whatever their kind, across sockets', async () => {
    const { socket } = setup({ budgets: { RATE_USER_FRAMES_PER_SEC: 1, RATE_USER_BURST: 4 } });
    const sockets = [socket(), socket()];
    for (let i = 0; i < 3; i++) for (const x of sockets) await x.frame({ type: 'ping', ref: i });
    const pongs = sockets.flatMap((x) => x.ws.frames.filter((f) => f.type === 'pong'));
    const refused = sockets.flatMap((x) => x.ws.errors());
    expect(pongs).toHaveLength(4);
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ code: 'rate_limited', ref: 2 });
  });

  it('lets an honest client flush an outbox into the refusal, but closes one that keeps hammering (1008)', async () => {
    const { socket } = setup({ budgets: { RATE_SEND_PER_SEC: 10, RATE_SEND_BURST: 50 } });
    const { ws, frame } = socket();
    // A full queue of sends after a reconnect: 200 refused, none a strike, the socket stays.
    for (let i = 0; i < 250; i++)
      await frame({ type: 'send', roomId: 'r_1', clientMsgId: `c-${i}`, body: 'hi' });
    expect(ws.errors()).toHaveLength(200);
    expect(ws.closedWith).toBeUndefined();
    // Sending on into the refusal, without waiting: closed.
    for (let i = 0; i < 200 && ws.closedWith === undefined; i++)
      await frame({ type: 'send', roomId: 'r_1', clientMsgId: `h-${i}`, body: 'hi' });
    expect(ws.closedWith).toBe(1008);
  });

  it('budgets typing and read frames', async () => {
    const { socket } = setup({
      budgets: { RATE_TYPING_READ_PER_SEC: 1, RATE_TYPING_READ_BURST: 2 },
    });
    const { ws, frame } = socket();
    await frame({ type: 'typing', roomId: 'r_1' });
    await frame({ type: 'read', roomId: 'r_1', seq: 1 });
    await frame({ type: 'typing', roomId: 'r_1' });
    expect(ws.errors()).toEqual([expect.objectContaining({ code: 'rate_limited' })]);
  });
});

describe('read and typing frames', () => {
  it("produces a read to notify with the room's last seq, for a member and a seq the room has", async () => {
    const { socket, emitted } = setup();
    const { ws, frame } = socket();
    await frame({ type: 'read', roomId: 'r_1', seq: 150 });
    await frame({ type: 'read', roomId: 'r_1', seq: 200 });
    await frame({ type: 'read', roomId: 'r_2', seq: 0 });
    expect(ws.errors()).toEqual([]);
    expect(emitted.map((e) => [e.type, e.data])).toEqual([
      ['parley.notify.read', { actorId: 'u_a', roomId: 'r_1', seq: 150, lastSeq: 200 }],
      ['parley.notify.read', { actorId: 'u_a', roomId: 'r_1', seq: 200, lastSeq: 200 }],
      ['parley.notify.read', { actorId: 'u_a', roomId: 'r_2', seq: 0, lastSeq: 200 }],
    ]);
  });

  it('refuses a read past the last seq, of a room the user is not in, or not a whole seq, and produces nothing', async () => {
    const { socket, emitted } = setup();
    const { ws, frame } = socket();
    await frame({ type: 'read', roomId: 'r_1', seq: 201 });
    await frame({ type: 'read', roomId: 'r_elsewhere', seq: 1 });
    await frame({ type: 'read', roomId: 'r_1', seq: -1 });
    await frame({ type: 'read', roomId: 'r_1', seq: 1.5 });
    expect(ws.errors().map((e) => e.code)).toEqual([
      'bad_request',
      'not_member',
      'malformed_frame',
      'malformed_frame',
    ]);
    expect(ws.errors()[0]?.message).toContain('past the last message');
    expect(emitted).toEqual([]);
  });

  it('drops a read at or below the marker known here without a look-up or a record', async () => {
    const { socket, emitted, deps } = setup();
    deps.markerOf = (_u, roomId) => (roomId === 'r_1' ? 120 : undefined);
    const { ws, frame } = socket();
    await frame({ type: 'read', roomId: 'r_1', seq: 100 });
    await frame({ type: 'read', roomId: 'r_1', seq: 120 });
    await frame({ type: 'read', roomId: 'r_1', seq: 121 });
    expect(ws.errors()).toEqual([]);
    expect(emitted.map((e) => (e.data as { seq: number }).seq)).toEqual([121]);
  });

  it('relays typing once per interval per user and room, dropping the rest without an error', async () => {
    const { socket, deps } = setup();
    let t = 0;
    deps.typing = new KeyedBuckets(1000 / 2_500, 1, () => t);
    const relayed: unknown[] = [];
    for (const r of ['r_1', 'r_2'])
      await deps.fanout.subscribe(`room:${r}`, (_c, p) => relayed.push(p));
    const a = socket('u_a');
    const b = socket('u_b');
    await a.frame({ type: 'typing', roomId: 'r_1' });
    await a.frame({ type: 'typing', roomId: 'r_1' });
    await a.frame({ type: 'typing', roomId: 'r_2' });
    await b.frame({ type: 'typing', roomId: 'r_1' });
    t += 2_499;
    await a.frame({ type: 'typing', roomId: 'r_1' });
    t += 1;
    await a.frame({ type: 'typing', roomId: 'r_1' });
    await new Promise((r) => setTimeout(r, 0));
    expect(relayed).toEqual([
      { kind: 'typing', roomId: 'r_1', userId: 'u_a' },
      { kind: 'typing', roomId: 'r_2', userId: 'u_a' },
      { kind: 'typing', roomId: 'r_1', userId: 'u_b' },
      { kind: 'typing', roomId: 'r_1', userId: 'u_a' },
    ]);
    expect([...a.ws.errors(), ...b.ws.errors()]).toEqual([]);
  });
});

describe('refusals that echo what they should', () => {
  it('never echoes a ref that JSON cannot carry (1e400 is Infinity)', async () => {
    const { socket } = setup();
    const { ws, frame } = socket();
    await frame('{"type":"ping","ref":1e400}');
    await frame('{"type":"teleport","ref":-1e400}');
    expect(ws.frames).toHaveLength(2);
    for (const f of ws.frames) {
      expect(f).toMatchObject({ type: 'error', code: 'malformed_frame' });
      expect(f).not.toHaveProperty('ref');
    }
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses a sync naming the room %s, and reads nothing',
    async (key) => {
      const { socket } = setup();
      const { ws, frame } = socket();
      await frame(`{"type":"sync","rooms":{"${key}":{"polluted":1}}}`);
      expect(ws.frames).toEqual([
        expect.objectContaining({ type: 'error', code: 'malformed_frame' }),
      ]);
      expect((ws.frames[0] as ErrorFrame).message).toContain(`"${key}" is not a room id`);
      expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
    },
  );
});
