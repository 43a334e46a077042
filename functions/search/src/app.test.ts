import { SearchResponseSchema } from '@parley/protocol';
import { createLogger, createTokenService } from '@parley/runtime';
import { msg } from '@parley/search-index/contract';
import { MemorySearchIndex } from '@parley/search-index/memory';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSearchApp } from './app';

const tokens = createTokenService('test-secret-that-is-at-least-32-chars!');

async function setup() {
  const index = new MemorySearchIndex();
  const rooms = new Map<string, string[]>([
    ['u_alice', ['r_a', 'r_shared']],
    ['u_bob', ['r_b', 'r_shared']],
  ]);
  const registry = new Registry();
  const app = createSearchApp({
    index,
    roomIdsOf: async (userId) => rooms.get(userId) ?? [],
    tokens,
    log: createLogger('search-test', 'silent'),
    registry,
  });
  const alice = await tokens.sign({ id: 'u_alice', username: 'alice' });
  const bob = await tokens.sign({ id: 'u_bob', username: 'bob' });
  const get = async (token: string | undefined, query: Record<string, string>) => {
    const res = await app.request(`/api/v1/search?${new URLSearchParams(query)}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const ok = async (token: string, query: Record<string, string>) => {
    const r = await get(token, query);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return SearchResponseSchema.parse(r.body);
  };
  return { index, rooms, registry, alice, bob, get, ok };
}

describe('search', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    s = await setup();
    await s.index.apply([
      msg('r_a', '회의는 3시에 시작합니다'),
      msg('r_b', '회의록은 bob만 봅니다'),
      msg('r_shared', '공유 회의 안건'),
      ...Array.from({ length: 7 }, (_, i) => msg('r_a', `standup notes ${i}`, { seq: i + 1 })),
    ]);
  });

  it('finds messages in the caller’s rooms only, with highlights', async () => {
    const alice = await s.ok(s.alice, { q: '회의' });
    expect(alice.hits.map((h) => h.message.body)).toEqual([
      '공유 회의 안건',
      '회의는 3시에 시작합니다',
    ]);
    expect(alice.hits[1]?.highlight[0]).toEqual({ text: '회의', match: true });
    const bob = await s.ok(s.bob, { q: '회의' });
    expect(bob.hits.map((h) => h.message.roomId).sort()).toEqual(['r_b', 'r_shared']);
  });

  it('narrows to one room, and refuses a room the caller is not in', async () => {
    expect((await s.ok(s.alice, { q: '회의', roomId: 'r_shared' })).hits).toHaveLength(1);
    const r = await s.get(s.alice, { q: '회의', roomId: 'r_b' });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { code: 'not_member', message: expect.any(String) } });
  });

  it('stops finding a room’s messages once the caller has left it', async () => {
    s.rooms.set('u_alice', ['r_a']);
    try {
      const hits = (await s.ok(s.alice, { q: '회의' })).hits;
      expect(hits.map((h) => h.message.roomId)).toEqual(['r_a']);
      expect((await s.get(s.alice, { q: '회의', roomId: 'r_shared' })).status).toBe(403);
    } finally {
      s.rooms.set('u_alice', ['r_a', 'r_shared']);
    }
  });

  it('pages with nextCursor until there is no more', async () => {
    const seqs: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await s.ok(s.alice, { q: 'standup', limit: '3', ...(cursor ? { cursor } : {}) });
      seqs.push(...page.hits.map((h) => h.message.seq));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(seqs).toEqual([7, 6, 5, 4, 3, 2, 1]);
    const last = await s.ok(s.alice, { q: 'standup', limit: '7' });
    expect(last.nextCursor).toBeUndefined();
  });

  it('caps the page size', async () => {
    await s.index.apply(Array.from({ length: 60 }, () => msg('r_a', 'capped result')));
    const page = await s.ok(s.alice, { q: 'capped', limit: '1000' });
    expect(page.hits).toHaveLength(50);
    expect(page.nextCursor).toBeDefined();
  });

  it('takes query syntax as plain text', async () => {
    await s.index.apply([msg('r_a', 'foo and bar or baz')]);
    for (const q of [
      'foo AND (bar',
      'bar OR baz*',
      '"foo" -bar',
      'body:foo',
      '{"match_all":{}}',
      'foo\\',
    ]) {
      const r = await s.get(s.alice, { q });
      expect(r.status, q).toBe(200);
    }
    expect((await s.ok(s.alice, { q: 'foo AND (bar' })).hits).toHaveLength(1);
  });

  it('answers a clear 400 to empty, punctuation-only, huge or malformed queries', async () => {
    const cases: Record<string, string>[] = [
      {},
      { q: '' },
      { q: '   ' },
      { q: '!!! ??? ...' },
      { q: 'x'.repeat(201) },
      { q: Array.from({ length: 70 }, (_, i) => `w${i}`).join(' ') },
      { q: 'ok', limit: '0' },
      { q: 'ok', limit: 'ten' },
      { q: 'ok', sort: 'oldest' },
      { q: 'ok', roomId: 'not a room!' },
      { q: 'ok', cursor: 'not-a-cursor' },
    ];
    for (const query of cases) {
      const r = await s.get(s.alice, query);
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body).toEqual({ error: { code: 'bad_request', message: expect.any(String) } });
    }
    const recent = await s.ok(s.alice, { q: 'standup', limit: '1' });
    const r = await s.get(s.alice, {
      q: 'standup',
      sort: 'relevance',
      cursor: recent.nextCursor ?? '',
    });
    expect(r.status).toBe(400);
  });

  it('refuses a missing or forged token with 401', async () => {
    expect((await s.get(undefined, { q: 'standup' })).status).toBe(401);
    const forged = await createTokenService('another-secret-that-is-32-chars-long!').sign({
      id: 'u_alice',
      username: 'alice',
    });
    expect((await s.get(forged, { q: 'standup' })).status).toBe(401);
  });

  it('exports query latency', async () => {
    const text = await s.registry.getSingleMetricAsString('parley_search_query_seconds');
    expect(text).toMatch(/parley_search_query_seconds_count\{sort="recent",outcome="ok"\} [1-9]/);
  });
});
