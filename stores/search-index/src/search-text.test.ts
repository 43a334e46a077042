import { describe, expect, it } from 'vitest';
import { matchRanges } from './search-index.es';
import {
  analyze,
  cjkTokens,
  fragment,
  HIGHLIGHT_FRAGMENT_CHARS,
  highlight,
  isCjkTerm,
  queryTerms,
  type Token,
  tokenize,
} from './search-text';

const terms = (text: string, mode: 'index' | 'search') => analyze(text, mode).map((t) => t.term);

describe('search-text (the TypeScript twin of the Elasticsearch analyzers)', () => {
  it('cuts Korean into bigrams, with unigrams only when indexing', () => {
    expect(terms('회의는 Meetings', 'index')).toEqual(['회', '회의', '의', '의는', '는', 'meet']);
    expect(terms('회의는 Meetings', 'search')).toEqual(['회의', '의는', 'meet']);
    expect(terms('회', 'search')).toEqual(['회']);
  });

  it('bigrams Han and Kana runs and splits mixed-script words', () => {
    expect(terms('東京タワー', 'search')).toEqual(['東京', '京タ', 'タワ', 'ワー']);
    expect(terms('API키를', 'search')).toEqual(['api', '키를']);
  });

  it('lowercases, stems and drops possessives; punctuation is not a word', () => {
    expect(terms("Anna's running deployments!!!", 'search')).toEqual(['anna', 'run', 'deploy']);
    expect(queryTerms('!!! ??? ...')).toEqual([]);
    expect(queryTerms('meet meeting meetings')).toEqual(['meet']);
  });

  it('gives offsets into the original text', () => {
    const [a, b] = analyze('  회의 ok', 'search');
    expect(a).toEqual({ term: '회의', start: 2, end: 4 });
    expect(b).toEqual({ term: 'ok', start: 5, end: 7 });
  });

  it('highlights what matched, merging overlaps', () => {
    expect(highlight('회의는 취소', new Set(queryTerms('회의는')))).toEqual([
      { text: '회의는', match: true },
      { text: ' 취소', match: false },
    ]);
  });

  it('keeps a fragment around the first match of a long body', () => {
    const body = `${'a '.repeat(200)}needle${' b'.repeat(200)}`;
    const at = body.indexOf('needle');
    const segs = fragment(body, [[at, at + 6]]);
    const text = segs.map((s) => s.text).join('');
    expect(text.length).toBe(HIGHLIGHT_FRAGMENT_CHARS);
    expect(body.includes(text)).toBe(true);
    expect(segs.find((s) => s.match)?.text).toBe('needle');
    expect(
      fragment(body, [])
        .map((s) => s.text)
        .join(''),
    ).toBe(body.slice(0, HIGHLIGHT_FRAGMENT_CHARS));
  });

  it('reads Elasticsearch’s marked highlight back into offsets', () => {
    expect(matchRanges('\uE000회의\uE001는 \uE000취소\uE001')).toEqual([
      [0, 2],
      [4, 6],
    ]);
    expect(matchRanges('no marks')).toEqual([]);
  });

  it('gives the same tokens from CJK runs kept as offsets (as the memory index keeps them)', () => {
    for (const text of [
      '회의는 3시에 API키를 발급했어요',
      '東京タワーで会議 𠜎𠀋 한 ｱｲｳ',
      "Anna's 🍲 회 의 meetings!!",
      '々〆ㅋㅋㅋ ㄱ 가-나',
    ]) {
      for (const mode of ['index', 'search'] as const) {
        const viaRuns: Token[] = [];
        const sink = (term: string, start: number, end: number) => {
          viaRuns.push({ term, start, end });
        };
        tokenize(text, mode, sink, (start, end) => cjkTokens(text, start, end, mode, sink));
        expect(viaRuns).toEqual(analyze(text, mode));
      }
    }
  });

  it('lowercases no CJK character, so a CJK term is the text it came from', () => {
    // The memory index finds CJK unigrams and bigrams in a body by their text (isCjkTerm).
    const changed: number[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (isCjkTerm(ch) && ch.toLowerCase() !== ch) changed.push(cp);
    }
    expect(changed).toEqual([]);
    expect(queryTerms('회의 東京 meeting 🍲').map(isCjkTerm)).toEqual([true, true, false, false]);
  });
});
