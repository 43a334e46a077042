import type { Message } from '@parley/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SearchHit, SearchRequest, SearchSort } from './search-index';
import { describeSearchIndexContract, msg } from './search-index.contract';
import { MemorySearchIndex, type SearchWork } from './search-index.memory';
import { analyze, type HighlightSegment, highlight, queryTerms } from './search-text';

describeSearchIndexContract('memory', async () => ({ index: new MemorySearchIndex() }));

/**
 * What the inverted index must agree with: every stored message analyzed at
 * query time, BM25 computed from scratch (Elasticsearch's formula, k1 1.2,
 * b 0.75), everything sorted — the slow way the index avoids.
 */
class BruteForce {
  private readonly stored = new Map<string, { message: Message; version: number }>();

  apply(messages: readonly Message[]): void {
    for (const m of messages) {
      const version = m.editedTs ?? m.ts;
      const old = this.stored.get(m.id);
      if (old && old.version >= version) continue;
      this.stored.set(m.id, { message: m.deleted ? { ...m, body: '' } : m, version });
    }
  }

  search(req: SearchRequest): {
    id: string;
    sort: (string | number)[];
    highlight: HighlightSegment[];
  }[] {
    const terms = queryTerms(req.text);
    const live = [...this.stored.values()]
      .map((s) => s.message)
      .filter((m) => !m.deleted)
      .map((m) => ({ m, tokens: analyze(m.body, 'index').map((t) => t.term) }));
    const avg = live.reduce((n, d) => n + d.tokens.length, 0) / live.length;
    const df = (t: string) => live.filter((d) => d.tokens.includes(t)).length;
    const rows = live
      .filter((d) => req.roomIds.includes(d.m.roomId))
      .filter((d) => terms.every((t) => d.tokens.includes(t)))
      .map((d) => {
        let score = 0;
        for (const t of terms) {
          const idf = Math.log(1 + (live.length - df(t) + 0.5) / (df(t) + 0.5));
          const f = d.tokens.filter((x) => x === t).length;
          score += (idf * f * (1.2 + 1)) / (f + 1.2 * (1 - 0.75 + (0.75 * d.tokens.length) / avg));
        }
        const base = [d.m.ts, d.m.id];
        return {
          id: d.m.id,
          body: d.m.body,
          sort: req.sort === 'relevance' ? [score, ...base] : base,
        };
      });
    const desc = (a: (string | number)[], b: (string | number)[]) => {
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) return (a[i] as number) > (b[i] as number) ? -1 : 1;
      }
      return 0;
    };
    rows.sort((a, b) => desc(a.sort, b.sort));
    const after = req.after;
    return (after ? rows.filter((r) => desc(r.sort, after) > 0) : rows)
      .slice(0, req.limit)
      .map(({ id, body, sort }) => ({ id, sort, highlight: highlight(body, new Set(terms)) }));
  }
}

describe('MemorySearchIndex: the inverted index', () => {
  it('agrees with analyzing every message at query time, through edits, deletes and replays', async () => {
    const index = new MemorySearchIndex({ applySliceChars: 50 });
    const truth = new BruteForce();
    const rooms = ['r_a', 'r_b', 'r_c'];
    const words = [
      '회의는',
      '회의록',
      '회식',
      '배포',
      'meeting',
      'meetings',
      'deploy',
      'budget',
      '🍲',
    ];
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed % n;
    };
    const body = () =>
      Array.from({ length: 1 + next(6) }, () => words[next(words.length)]).join(' ');
    const written: Message[] = [];
    const queries = ['회의', '회', 'meeting', 'deploy budget', '배포 meeting', '🍲', '회식 회의'];
    const check = async () => {
      for (const text of queries) {
        for (const sort of ['recent', 'relevance'] as SearchSort[]) {
          const roomIds = rooms.slice(0, 1 + next(3));
          // Page through with small pages: cursors, sort values and highlights must agree too.
          let after: SearchRequest['after'];
          for (let page = 0; page < 50; page++) {
            const req: SearchRequest = {
              text,
              roomIds,
              sort,
              limit: 3,
              ...(after ? { after } : {}),
            };
            const got = (await index.search(req)).map((h) => ({
              id: h.message.id,
              sort: h.sort,
              highlight: h.highlight,
            }));
            expect(got).toEqual(truth.search(req));
            if (got.length < 3) break;
            after = got.at(-1)?.sort;
          }
        }
      }
    };
    for (let step = 0; step < 60; step++) {
      const batch: Message[] = [];
      for (let j = 0; j < 1 + next(4); j++) {
        const roll = next(10);
        const prev = written[next(Math.max(1, written.length))];
        if (roll < 5 || !prev) {
          // New messages, some sharing a ts, some older than the newest (late arrivals).
          batch.push(
            msg(
              rooms[next(3)] as string,
              body(),
              next(4) === 0 ? { ts: 1_700_000_000_000 + next(5) } : {},
            ),
          );
        } else if (roll < 7) {
          batch.push({ ...prev, body: body(), editedTs: (prev.editedTs ?? prev.ts) + next(4) - 1 });
        } else if (roll < 9) {
          batch.push({
            ...prev,
            body: '',
            deleted: true,
            editedTs: (prev.editedTs ?? prev.ts) + next(3),
          });
        } else {
          batch.push(prev); // a replay
        }
      }
      written.push(...batch);
      await index.apply(batch);
      truth.apply(batch);
      if (step % 6 === 5) await check();
    }
    await check();
  });

  it('finds nothing once every message is deleted, and finds an edited word again', async () => {
    const index = new MemorySearchIndex();
    const a = msg('r_x', '회의는 내일');
    const b = msg('r_x', '회의록 공유');
    await index.apply([a, b]);
    await index.apply([
      { ...a, body: '', deleted: true, editedTs: a.ts + 1 },
      { ...b, body: '', deleted: true, editedTs: b.ts + 1 },
    ]);
    const find = async (text: string, sort: SearchSort = 'recent') =>
      (await index.search({ text, roomIds: ['r_x'], sort, limit: 10 })).map((h) => h.message.body);
    expect(await find('회의')).toEqual([]);
    expect(await find('회', 'relevance')).toEqual([]);
    // A newer version after a delete is a write like any other (the contract's versions decide).
    await index.apply([{ ...a, body: '회의 다시', editedTs: a.ts + 5 }]);
    expect(await find('회의')).toEqual(['회의 다시']);
    expect(await find('내일')).toEqual([]);
  });
});

describe('MemorySearchIndex: work per query, not per corpus', () => {
  const room = 'r_big';
  const works: SearchWork[] = [];
  const index = new MemorySearchIndex({ onSearch: (w) => works.push(w) });
  const search = async (
    req: Omit<SearchRequest, 'roomIds'>,
  ): Promise<[SearchHit[], SearchWork]> => {
    const hits = await index.search({ roomIds: [room], ...req });
    return [hits, works.at(-1) as SearchWork];
  };
  beforeAll(async () => {
    // 3,000 messages that all match "standup", 30 of which also hold "rare".
    await index.apply(
      Array.from({ length: 3000 }, (_, i) =>
        msg(room, `standup 회의는 ${i % 100 === 0 ? 'rare' : 'common'} ${i}`, { seq: i + 1 }),
      ),
    );
  });

  it('stops a newest-first query at the page, and starts the next page at the cursor', async () => {
    const [page1, w1] = await search({ text: '회의 standup', sort: 'recent', limit: 21 });
    expect(page1.map((h) => h.message.seq)).toEqual(Array.from({ length: 21 }, (_, i) => 3000 - i));
    expect(w1).toEqual({ candidates: 21, matched: 21, yields: 0 });
    const [page2, w2] = await search({
      text: '회의 standup',
      sort: 'recent',
      limit: 21,
      after: page1.at(-1)?.sort,
    });
    expect(page2[0]?.message.seq).toBe(2979);
    expect(w2).toEqual({ candidates: 21, matched: 21, yields: 0 });
  });

  it('takes the rarest term’s postings as the candidates', async () => {
    const [hits, work] = await search({ text: 'standup rare', sort: 'relevance', limit: 50 });
    expect(hits.length).toBe(30);
    expect(work).toEqual({ candidates: 30, matched: 30, yields: 0 });
  });

  it('scores every match by relevance but keeps only the page', async () => {
    const [hits, work] = await search({ text: 'standup', sort: 'relevance', limit: 5 });
    expect(hits.length).toBe(5);
    expect(work).toEqual({ candidates: 3000, matched: 3000, yields: 0 });
  });

  it('looks at no candidate when a term is in no message or the rooms hold none', async () => {
    expect((await search({ text: 'standup zebra', sort: 'recent', limit: 5 }))[1]).toEqual({
      candidates: 0,
      matched: 0,
      yields: 0,
    });
  });
});

/** Counts event-loop turns (setImmediate) while `work` runs. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  running = false;
  return turns;
}

describe('MemorySearchIndex: apply gives the event loop back', () => {
  it('after every slice of analyzed characters, and applies the whole bulk', async () => {
    const index = new MemorySearchIndex({ applySliceChars: 1000 });
    const bulk = Array.from({ length: 50 }, (_, i) => msg('r_s', `${'배포 '.repeat(33)}${i}`));
    expect(bulk[0]?.body.length).toBe(100);
    let results: unknown[] = [];
    const turns = await turnsDuring(async () => {
      results = await index.apply(bulk);
    });
    // 5,000 characters in slices of 1,000: four yields between the five slices.
    expect(turns).toBeGreaterThanOrEqual(4);
    expect(results).toEqual(bulk.map(() => ({ outcome: 'applied' })));
    const hits = await index.search({ text: '배포', roomIds: ['r_s'], sort: 'recent', limit: 50 });
    expect(hits.length).toBe(50);
  });

  it('by default within a bulk of 500 chat messages', async () => {
    const index = new MemorySearchIndex();
    const bulk = Array.from({ length: 500 }, (_, i) => msg('r_s', `${'회의는 '.repeat(25)}${i}`));
    const turns = await turnsDuring(() => index.apply(bulk));
    expect(turns).toBeGreaterThanOrEqual(9); // 50,000 characters, 4,000 a slice
  });
});

describe('MemorySearchIndex: a long scan gives the event loop back', () => {
  const room = 'r_scan';
  // Bodies of different lengths, so relevance scores differ; "alpha" and "beta" never meet.
  const corpus = Array.from({ length: 3000 }, (_, i) =>
    msg(room, `standup ${i % 2 ? 'alpha' : 'beta'} ${'note '.repeat(i % 7)}${i}`, { seq: i + 1 }),
  );

  it('every scanSlice candidates, and answers exactly as one unbroken scan', async () => {
    const works: SearchWork[] = [];
    const sliced = new MemorySearchIndex({ scanSlice: 500, onSearch: (w) => works.push(w) });
    const whole = new MemorySearchIndex({ scanSlice: Number.POSITIVE_INFINITY });
    await sliced.apply(corpus);
    await whole.apply(corpus);
    const req: SearchRequest = { text: 'standup', roomIds: [room], sort: 'relevance', limit: 10 };
    let hits: SearchHit[] = [];
    const turns = await turnsDuring(async () => {
      hits = await sliced.search(req);
    });
    expect(works.at(-1)).toEqual({ candidates: 3000, matched: 3000, yields: 5 });
    expect(turns).toBeGreaterThanOrEqual(5);
    expect(hits).toEqual(await whole.search(req));
    // A newest-first search for words that never meet looks at every candidate too.
    expect(await sliced.search({ ...req, text: 'alpha beta', sort: 'recent' })).toEqual([]);
    expect(works.at(-1)).toEqual({ candidates: 1500, matched: 0, yields: 2 });
  });

  it('holds writes until the scan ends, and lets a waiting write go before a new search', async () => {
    const index = new MemorySearchIndex({ scanSlice: 100 });
    await index.apply(corpus.slice(0, 1000));
    const [first, second] = corpus;
    if (!first || !second) throw new Error('fixture');
    const order: string[] = [];
    const all = (sort: SearchSort) =>
      index.search({ text: 'standup', roomIds: [room], sort, limit: 2000 });
    const before = all('relevance').then((hits) => {
      order.push('search');
      return hits;
    });
    const write = index
      .apply([
        { ...first, body: 'lunch', editedTs: first.ts + 1 },
        { ...second, body: '', deleted: true, editedTs: second.ts + 1 },
        msg(room, 'standup late'),
      ])
      .then((results) => {
        order.push('write');
        return results;
      });
    const after = all('recent').then((hits) => {
      order.push('next search');
      return hits;
    });
    const [hitsBefore, results, hitsAfter] = await Promise.all([before, write, after]);
    expect(order).toEqual(['search', 'write', 'next search']);
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'applied', 'applied']);
    // The scan read the index as it was when it started …
    expect(hitsBefore.length).toBe(1000);
    expect(hitsBefore.find((h) => h.message.id === first.id)?.message.body).toBe(first.body);
    // … and the search queued behind the write sees all of it.
    expect(hitsAfter.length).toBe(999);
    expect(hitsAfter[0]?.message.body).toBe('standup late');
    expect(hitsAfter.some((h) => h.message.id === first.id || h.message.id === second.id)).toBe(
      false,
    );
  });
});
