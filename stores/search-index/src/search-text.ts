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

/** @example analyze('회의는 Meetings', 'index').map((t) => t.term) // ['회','회의','의','의는','는','meet'] */
export function analyze(text: string, mode: AnalyzeMode): Token[] {
  const out: Token[] = [];
  // A run of CJK characters is bigrammed as a whole, also across word segments that touch
  // ("東京|タワー|で" → 東京 京タ タワ ワー ーで), as CJKBigramFilter joins adjacent CJK tokens.
  let run: { ch: string; start: number }[] = [];
  const flushRun = () => {
    if (run.length) pushCjk(run, mode, out);
    run = [];
  };
  for (const seg of segmenter.segment(text)) {
    if (!seg.isWordLike) {
      flushRun();
      // The standard tokenizer keeps emoji as tokens (<EMOJI>): "🍲" finds messages with 🍲.
      if (EMOJI.test(seg.segment)) {
        out.push({ term: seg.segment, start: seg.index, end: seg.index + seg.segment.length });
      }
      continue;
    }
    // A word may mix scripts ("API키", "3시에"): CJK runs are bigrammed, the rest is a word —
    // in ES the parley_hangul_split char filter and UAX #29 (Han, Kana) split them the same way.
    let offset = seg.index;
    let other = '';
    let otherStart = offset;
    const flushOther = () => {
      if (other) pushWord(other, otherStart, out);
      other = '';
    };
    for (const ch of seg.segment) {
      if (CJK.test(ch)) {
        flushOther();
        run.push({ ch, start: offset });
      } else {
        flushRun();
        if (!other) otherStart = offset;
        other += ch;
      }
      offset += ch.length;
    }
    flushOther();
  }
  flushRun();
  return out;
}

/** The distinct terms of a query, in order (what every hit must contain). */
export function queryTerms(text: string): string[] {
  return [...new Set(analyze(text, 'search').map((t) => t.term))];
}

function pushWord(word: string, start: number, out: Token[]): void {
  const end = start + word.length;
  const bare = word.replace(POSSESSIVE, '');
  const lower = bare.toLowerCase();
  if (!lower) return;
  const term = stemmer(lower.slice(0, MAX_TOKEN_CHARS));
  out.push({ term, start, end });
}

function pushCjk(run: { ch: string; start: number }[], mode: AnalyzeMode, out: Token[]): void {
  const lower = (i: number) => run[i]?.ch.toLowerCase() ?? '';
  if (run.length === 1) {
    const only = run[0];
    if (only) out.push({ term: lower(0), start: only.start, end: only.start + only.ch.length });
    return;
  }
  for (let i = 0; i < run.length; i++) {
    const cur = run[i];
    if (!cur) continue;
    if (mode === 'index') {
      out.push({ term: lower(i), start: cur.start, end: cur.start + cur.ch.length });
    }
    const next = run[i + 1];
    if (next) {
      out.push({
        term: lower(i) + lower(i + 1),
        start: cur.start,
        end: next.start + next.ch.length,
      });
    }
  }
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
