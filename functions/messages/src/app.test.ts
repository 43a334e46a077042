import { MemoryMessageStore } from '@parley/message-store/memory';
import { MemoryRecentCache } from '@parley/message-store/recent-cache/memory';
import type { Message } from '@parley/protocol';
import { createLogger, createTokenService, newId, ParleyError } from '@parley/runtime';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMessagesApp, SUMMARIES_MAX } from './app';

const tokens = createTokenService('test-secret-that-is-at-least-32-chars!');
const log = createLogger('messages-test', 'silent');

/**
 * A room with `n` stored messages, of which the recent cache holds the seqs in
 * `cached`; a frozen cache keeps failing to add afterwards (its gaps stay).
 */
async function setup(n: number, cached: (seq: number) => boolean = () => true, frozen = false) {
  const store = new MemoryMessageStore();
  const recent = new MemoryRecentCache();
  const room = newId('r');
  for (let i = 1; i <= n; i++) {
    const { message } = await store.append({
      id: newId('m'),
      roomId: room,
      senderId: 'u_alice',
      clientMsgId: `c${i}`,
      body: `m${i}`,
      ts: i,
    });
    if (cached(message.seq)) await recent.add(message);
  }
  if (frozen) {
    recent.add = async () => {
      throw new ParleyError('unavailable', 'redis down');
    };
  }
  const registry = new Registry();
  const calls: string[] = [];
  const app = createMessagesApp({
    store: traced(store, calls, 'store'),
    recent: traced(recent, calls, 'recent'),
    isMember: async (roomId, userId) => roomId === room && userId === 'u_alice',
    tokens,
    log,
    registry,
  });
  const alice = await tokens.sign({ id: 'u_alice', username: 'alice' });
  const get = (path: string, token: string | null = alice) =>
    app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const page = async (query: string) => {
    const res = await get(`/api/v1/rooms/${room}/messages${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { messages: Message[]; hasMore: boolean };
  };
  const cacheReads = async () => {
    const metric = await registry.getSingleMetric('parley_recent_cache_reads_total')?.get();
    return Object.fromEntries((metric?.values ?? []).map((v) => [v.labels.outcome, v.value]));
  };
  return { store, recent, room, app, get, page, calls, cacheReads };
}

/** Records which port methods were called. */
function traced<T extends object>(target: T, calls: string[], name: string): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(`${name}.${String(prop)}`);
        return v.apply(t, args);
      };
    },
  });
}

const seqs = (p: { messages: Message[] }) => p.messages.map((m) => m.seq);

describe('GET /api/v1/rooms/:roomId/messages', () => {
  it('pages backwards from the latest page to the first message', async () => {
    const t = await setup(12);
    const latest = await t.page('?limit=5');
    expect([seqs(latest), latest.hasMore]).toEqual([[8, 9, 10, 11, 12], true]);
    const older = await t.page('?before=8&limit=5');
    expect([seqs(older), older.hasMore]).toEqual([[3, 4, 5, 6, 7], true]);
    const oldest = await t.page('?before=3&limit=5');
    expect([seqs(oldest), oldest.hasMore]).toEqual([[1, 2], false]);
    expect(oldest.messages[0]).toMatchObject({
      roomId: t.room,
      seq: 1,
      senderId: 'u_alice',
      body: 'm1',
      clientMsgId: 'c1',
    });
  });

  it('pages forwards with after until there are no newer messages', async () => {
    const t = await setup(12);
    const first = await t.page('?after=0&limit=5');
    expect([seqs(first), first.hasMore]).toEqual([[1, 2, 3, 4, 5], true]);
    const last = await t.page('?after=10&limit=5');
    expect([seqs(last), last.hasMore]).toEqual([[11, 12], false]);
    expect(await t.page('?after=12')).toEqual({ messages: [], hasMore: false });
  });

  it('uses the default page size', async () => {
    const t = await setup(60);
    const page = await t.page('');
    expect(seqs(page)).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
  });

  it('answers recent pages from the cache and counts hits and misses', async () => {
    const t = await setup(12);
    await t.page('?limit=5');
    await t.page('?after=3&limit=2');
    expect(await t.cacheReads()).toEqual({ hit: 2 });
    expect(t.calls).not.toContain('store.page');
    const empty = await setup(12, () => false);
    await empty.page('?before=5&limit=2');
    expect(await empty.cacheReads()).toEqual({ miss: 1 });
    expect(empty.calls).toContain('store.page');
  });

  it('gives the same answers from the cache, from MySQL alone, and across a cache gap', async () => {
    const full = await setup(30);
    const none = await setup(30, () => false);
    const gap = await setup(30, (seq) => seq !== 27 && seq > 4, true);
    const queries = [
      '',
      '?limit=3',
      '?limit=30',
      '?limit=100',
      '?before=28&limit=4',
      '?before=5&limit=4',
      '?before=2',
      '?before=1',
      '?before=999&limit=3',
      '?after=0&limit=4',
      '?after=25&limit=4',
      '?after=26&limit=10',
      '?after=30',
      '?after=40',
    ];
    for (const q of queries) {
      const expected = await none.page(q);
      const strip = (p: typeof expected) => ({
        ...p,
        messages: p.messages.map(({ id: _id, roomId: _r, ...m }) => m),
      });
      expect(strip(await full.page(q)), q).toEqual(strip(expected));
      expect(strip(await gap.page(q)), q).toEqual(strip(expected));
    }
    expect((await full.cacheReads()).hit).toBeGreaterThan(0);
    expect((await gap.cacheReads()).hit).toBeGreaterThan(0);
    expect((await gap.cacheReads()).miss).toBeGreaterThan(0);
  });

  it('a message missing from the cache is served from MySQL, and the read repairs the cache', async () => {
    const t = await setup(10, (seq) => seq !== 10);
    expect(seqs(await t.page('?limit=3'))).toEqual([8, 9, 10]);
    expect(await t.cacheReads()).toEqual({ miss: 1 });
    expect(seqs(await t.page('?limit=3'))).toEqual([8, 9, 10]);
    expect(await t.cacheReads()).toEqual({ miss: 1, hit: 1 });
  });

  it('falls back to MySQL when the cache fails', async () => {
    const t = await setup(5);
    t.recent.range = async () => {
      throw new ParleyError('unavailable', 'redis down');
    };
    expect(seqs(await t.page('?limit=2'))).toEqual([4, 5]);
    expect(await t.cacheReads()).toEqual({ error: 1 });
  });

  it('refuses a non-member with 403 not_member', async () => {
    const t = await setup(3);
    const bob = await tokens.sign({ id: 'u_bob', username: 'bob' });
    const res = await t.get(`/api/v1/rooms/${t.room}/messages`, bob);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'not_member' } });
    expect(t.calls.filter((c) => c.startsWith('store.page') || c.startsWith('recent.'))).toEqual(
      [],
    );
  });

  it('refuses a missing or forged token with 401', async () => {
    const t = await setup(3);
    expect((await t.get(`/api/v1/rooms/${t.room}/messages`, null)).status).toBe(401);
    const forged = await createTokenService('another-secret-that-is-32-chars-long!').sign({
      id: 'u_alice',
      username: 'a',
    });
    expect((await t.get(`/api/v1/rooms/${t.room}/messages`, forged)).status).toBe(401);
  });

  it('answers 400 to a bad query and touches nothing', async () => {
    const t = await setup(3);
    t.calls.length = 0;
    for (const q of [
      '?before=3&after=1',
      '?limit=0',
      '?limit=101',
      '?before=abc',
      '?before=0',
      '?after=-1',
      '?limit=2.5',
    ]) {
      const res = await t.get(`/api/v1/rooms/${t.room}/messages${q}`);
      expect(res.status, q).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'bad_request' } });
    }
    expect((await t.get('/api/v1/rooms/bad%20id/messages')).status).toBe(400);
    expect(t.calls).toEqual([]);
    expect(await t.store.lastSeq(t.room)).toBe(3);
  });
});

describe('internal routes', () => {
  it('GET /internal/rooms/:roomId/messages serves the sync after a seq, without a token', async () => {
    const t = await setup(8);
    const res = await t.get(`/internal/rooms/${t.room}/messages?after=5&limit=2`, null);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { messages: Message[]; hasMore: boolean };
    expect([seqs(body), body.hasMore]).toEqual([[6, 7], true]);
    const all = (await (
      await t.get(`/internal/rooms/${t.room}/messages?after=0`, null)
    ).json()) as { messages: Message[] };
    expect(seqs(all)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await t.get(`/internal/rooms/${t.room}/messages?limit=2`, null)).status).toBe(400);
    expect((await t.get(`/internal/rooms/${t.room}/messages?after=0&limit=201`, null)).status).toBe(
      400,
    );
  });

  describe('GET /internal/rooms/summaries', () => {
    let t: Awaited<ReturnType<typeof setup>>;
    beforeAll(async () => {
      t = await setup(4);
    });

    it('gives each room its last seq and last message', async () => {
      const res = await t.get(`/internal/rooms/summaries?ids=${t.room},r_empty`, null);
      expect(res.status).toBe(200);
      const { rooms } = (await res.json()) as {
        rooms: Record<string, { lastSeq: number; lastMessage?: Message }>;
      };
      expect(rooms[t.room]).toMatchObject({ lastSeq: 4, lastMessage: { seq: 4, body: 'm4' } });
      expect(rooms.r_empty).toEqual({ lastSeq: 0 });
      expect(Object.keys(rooms).sort()).toEqual([t.room, 'r_empty'].sort());
    });

    it(`accepts up to ${SUMMARIES_MAX} rooms and refuses more or invalid ids`, async () => {
      const ids = (n: number) => Array.from({ length: n }, (_, i) => `r_${i}`).join(',');
      expect(
        (await t.get(`/internal/rooms/summaries?ids=${ids(SUMMARIES_MAX)}`, null)).status,
      ).toBe(200);
      expect(
        (await t.get(`/internal/rooms/summaries?ids=${ids(SUMMARIES_MAX + 1)}`, null)).status,
      ).toBe(400);
      expect((await t.get('/internal/rooms/summaries?ids=ok,not%20ok', null)).status).toBe(400);
      expect(await (await t.get('/internal/rooms/summaries', null)).json()).toEqual({ rooms: {} });
    });
  });

  it('serves the probes; its metrics only on the private port (serveFunction)', async () => {
    const t = await setup(1);
    expect((await t.get('/healthz', null)).status).toBe(200);
    expect((await t.get('/readyz', null)).status).toBe(200);
    await t.page('?limit=1');
    expect(await t.cacheReads()).toEqual({ hit: 1 });
    expect((await t.get('/metrics', null)).status).toBe(404);
  });
});
