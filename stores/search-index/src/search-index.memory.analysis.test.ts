/**
 * A search over the memory index puts no message body through the analyzer
 * (Intl.Segmenter, stemming): the bodies were analyzed when written, and
 * highlights come from their stored tokens (CJK runs are cut into bigrams
 * again from their stored offsets, which needs no segmentation). The
 * analyzer's entry points are wrapped to count the bodies they are given
 * (the query's own analysis, mode 'search', is not a body).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { msg } from './search-index.contract';
import { MemorySearchIndex } from './search-index.memory';
import type * as SearchText from './search-text';

const analyzed = vi.hoisted(() => ({ bodies: 0 }));

vi.mock('./search-text', async (importOriginal) => {
  const real = await importOriginal<typeof SearchText>();
  return {
    ...real,
    tokenize: (...args: Parameters<typeof real.tokenize>) => {
      if (args[1] === 'index') analyzed.bodies++;
      real.tokenize(...args);
    },
    analyze: (...args: Parameters<typeof real.analyze>) => {
      if (args[1] === 'index') analyzed.bodies++;
      return real.analyze(...args);
    },
    highlight: (...args: Parameters<typeof real.highlight>) => {
      analyzed.bodies++;
      return real.highlight(...args);
    },
  };
});

describe('MemorySearchIndex: analysis happens when writing, never when searching', () => {
  const room = 'r_long';
  const index = new MemorySearchIndex();
  const long = Array.from({ length: 30 }, (_, i) =>
    msg(room, `${'오늘 회의는 세 시에 시작합니다. '.repeat(50)}${i}`),
  );

  beforeAll(async () => {
    analyzed.bodies = 0;
    await index.apply(long);
    expect(analyzed.bodies).toBe(30); // once per message written
  });

  it('answers both sorts, with highlights, without analyzing a body', async () => {
    const before = analyzed.bodies;
    for (const sort of ['recent', 'relevance'] as const) {
      const hits = await index.search({ text: '회의', roomIds: [room], sort, limit: 21 });
      expect(hits.length).toBe(21);
      const marked = hits.flatMap((h) => h.highlight.filter((s) => s.match).map((s) => s.text));
      expect(new Set(marked)).toEqual(new Set(['회의']));
    }
    expect(analyzed.bodies - before).toBe(0);
  });

  it('analyzes an edit once and a delete not at all', async () => {
    const [first, second] = long;
    if (!first || !second) throw new Error('fixture');
    const before = analyzed.bodies;
    await index.apply([
      { ...first, body: '회의 취소', editedTs: first.ts + 1 },
      { ...second, body: '', deleted: true, editedTs: second.ts + 1 },
    ]);
    expect(analyzed.bodies - before).toBe(1);
    const hits = await index.search({ text: '취소', roomIds: [room], sort: 'recent', limit: 5 });
    expect(hits.map((h) => h.highlight)).toEqual([
      [
        { text: '회의 ', match: false },
        { text: '취소', match: true },
      ],
    ]);
  });
});
