/**
 * Parley's text analysis in TypeScript: the same tokens as the Elasticsearch
 * analyzers `parley_text` (index) and `parley_text_search` (query) defined in
 * es-index.ts, so the in-memory index and the query validation of `search`
 * agree with Elasticsearch:
 *
 *   pattern_replace (Hangul | other) → standard tokenizer (UAX #29 words)
 *     → stemmer(possessive_english) → cjk_bigram → lowercase → porter_stem
 *
 * - Words are found with Intl.Segmenter (UAX #29, like Lucene's
 *   StandardTokenizer); inside a word, runs of Hangul, Han, Hiragana and
 *   Katakana are cut into overlapping bigrams ("회의는" → 회의, 의는), so part
 *   of a Korean word finds the word. When indexing, single characters are
 *   kept too (ES `output_unigrams: true`), so a one-syllable query still
 *   matches; a query uses bigrams only, and a lone CJK character as itself.
 * - Other words are lowercased and Porter-stemmed ("meetings" → "meet"),
 *   after dropping an English possessive ("Anna's" → "anna").
 *
 * Offsets are UTF-16 indices into the text, for highlighting.
 */
import type { HighlightSegmentSchema } from '@parley/protocol';
import { stemmer } from 'stemmer';
import type { z } from 'zod';

export interface Token {
  term: string;
  start: number;
  end: number;
}

export type AnalyzeMode = 'index' | 'search';

// ー (U+30FC, U+FF70) is script Common but a Katakana letter to the standard tokenizer.
const CJK = /[\p{Script=Hangul}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30FC\uFF70]/u;
const EMOJI = /\p{Extended_Pictographic}/u;
const POSSESSIVE = /['’\uFF07][sS]$/;
const segmenter = new Intl.Segmenter('und', { granularity: 'word' });

/** Longest token the standard tokenizer keeps whole (ES `max_token_length`). */
const MAX_TOKEN_CHARS = 255;

/** Receives each token of a text in order of `start` (see `tokenize`). */
export type TokenSink = (term: string, start: number, end: number) => void;

/** @example analyze('회의는 Meetings', 'index').map((t) => t.term) // ['회','회의','의','의는','는','meet'] */
export function analyze(text: string, mode: AnalyzeMode): Token[] {
  const out: Token[] = [];
  tokenize(text, mode, (term, start, end) => {
    out.push({ term, start, end });
  });
  return out;
}

/**
 * The tokens of `analyze`, handed to `sink` one by one instead of collected.
 * With `runSink`, a run of CJK characters is handed over as its offsets
 * instead of its unigrams and bigrams, which `cjkTokens` makes from them
 * (the memory index keeps runs that way: a fifth of the space).
 *
 * No closure per word or per run: tsx, which runs the embedded mode, wraps
 * each function it creates in a naming helper, and that was a good part of
 * the time. Most of what remains is Intl.Segmenter.
 */
export function tokenize(
  text: string,
  mode: AnalyzeMode,
  sink: TokenSink,
  runSink?: (start: number, end: number) => void,
): void {
  // A run of CJK characters is bigrammed as a whole, also across word segments that touch
  // ("東京|タワー|で" → 東京 京タ タワ ワー ーで), as CJKBigramFilter joins adjacent CJK tokens.
  // The run is text[runStart, runEnd): its characters are always next to each other.
  let runStart = -1;
  let runEnd = -1;
  for (const seg of segmenter.segment(text)) {
    const word = seg.segment;
    if (!seg.isWordLike) {
      if (runStart >= 0) {
        if (runSink) runSink(runStart, runEnd);
        else cjkTokens(text, runStart, runEnd, mode, sink);
        runStart = -1;
      }
      // The standard tokenizer keeps emoji as tokens (<EMOJI>): "🍲" finds messages with 🍲.
      if (EMOJI.test(word)) sink(word, seg.index, seg.index + word.length);
      continue;
    }
    // A word may mix scripts ("API키", "3시에"): CJK runs are bigrammed, the rest is a word —
    // in ES the parley_hangul_split char filter and UAX #29 (Han, Kana) split them the same way.
    let offset = seg.index;
    let otherStart = -1;
    for (const ch of word) {
      if (CJK.test(ch)) {
        if (otherStart >= 0) pushWord(text.slice(otherStart, offset), otherStart, sink);
        otherStart = -1;
        if (runStart < 0) runStart = offset;
        runEnd = offset + ch.length;
      } else {
        if (runStart >= 0) {
          if (runSink) runSink(runStart, runEnd);
          else cjkTokens(text, runStart, runEnd, mode, sink);
          runStart = -1;
        }
        if (otherStart < 0) otherStart = offset;
      }
      offset += ch.length;
    }
    if (otherStart >= 0) pushWord(text.slice(otherStart, offset), otherStart, sink);
  }
  if (runStart >= 0) {
    if (runSink) runSink(runStart, runEnd);
    else cjkTokens(text, runStart, runEnd, mode, sink);
  }
}

/**
 * The tokens of the CJK run text[start, end): overlapping bigrams, with every
 * character alone too when indexing; a run of one character is itself.
 */
export function cjkTokens(
  text: string,
  start: number,
  end: number,
  mode: AnalyzeMode,
  sink: TokenSink,
): void {
  let prev = '';
  let prevStart = -1;
  for (let at = start; at < end; ) {
    const next = at + ((text.codePointAt(at) as number) > 0xffff ? 2 : 1);
    const ch = text.slice(at, next).toLowerCase();
    if (prevStart >= 0) sink(prev + ch, prevStart, next);
    if (mode === 'index') sink(ch, at, next);
    prev = ch;
    if (prevStart < 0 && next >= end && mode === 'search') sink(ch, at, next); // a lone character
    prevStart = at;
    at = next;
  }
}

/**
 * Whether a term comes from a CJK run (a unigram or bigram). Lowercasing
 * changes no CJK character, so such a term is literally the characters it
 * stands for: its tokens in a text are its occurrences inside the text's runs.
 */
export function isCjkTerm(term: string): boolean {
  return CJK.test(term);
}

/** The distinct terms of a query, in order (what every hit must contain). */
export function queryTerms(text: string): string[] {
  return [...new Set(analyze(text, 'search').map((t) => t.term))];
}

function pushWord(word: string, start: number, sink: TokenSink): void {
  const end = start + word.length;
  const bare = word.replace(POSSESSIVE, '');
  const lower = bare.toLowerCase();
  if (!lower) return;
  sink(stemmer(lower.slice(0, MAX_TOKEN_CHARS)), start, end);
}

/** A piece of a highlighted body: `match` pieces are what the query found (protocol). */
export type HighlightSegment = z.infer<typeof HighlightSegmentSchema>;

/** Characters of context kept around the first match of a long body. */
export const HIGHLIGHT_FRAGMENT_CHARS = 160;

/** The body cut into segments with the query's matches marked (see `fragment`). */
export function highlight(body: string, terms: ReadonlySet<string>): HighlightSegment[] {
  const ranges = analyze(body, 'index')
    .filter((t) => terms.has(t.term))
    .map((t) => [t.start, t.end] as [number, number]);
  return fragment(body, ranges);
}

/**
 * Match ranges (any order, may overlap) → segments, trimmed to a fragment
 * around the first match when the body is long. Both index adapters end here,
 * so their highlights have the same shape.
 */
export function fragment(
  body: string,
  ranges: readonly (readonly [number, number])[],
): HighlightSegment[] {
  const merged: [number, number][] = [];
  for (const r of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  let from = 0;
  let to = body.length;
  const first = merged[0];
  if (body.length > HIGHLIGHT_FRAGMENT_CHARS && first) {
    from = Math.max(0, first[0] - HIGHLIGHT_FRAGMENT_CHARS / 4);
    to = Math.min(body.length, from + HIGHLIGHT_FRAGMENT_CHARS);
  } else if (body.length > HIGHLIGHT_FRAGMENT_CHARS) {
    to = HIGHLIGHT_FRAGMENT_CHARS;
  }
  return segmentsOf(body, merged, from, to);
}

/** Segments of body[from, to) with the given (sorted, disjoint) match ranges. */
function segmentsOf(
  body: string,
  ranges: readonly (readonly [number, number])[],
  from: number,
  to: number,
): HighlightSegment[] {
  const out: HighlightSegment[] = [];
  let at = from;
  for (const [s0, e0] of ranges) {
    const s = Math.max(s0, from);
    const e = Math.min(e0, to);
    if (e <= s) continue;
    if (s > at) out.push({ text: body.slice(at, s), match: false });
    out.push({ text: body.slice(s, e), match: true });
    at = e;
  }
  if (at < to) out.push({ text: body.slice(at, to), match: false });
  return out;
}
