/**
 * The pure arithmetic behind RecentCache.range: which seqs a query needs and
 * whether the messages a cache holds answer it exactly. Seqs of a room are
 * 1, 2, 3, ... without gaps (deleted messages keep theirs), so a page is
 * exact when the cache holds every seq of its window.
 */
import type { Message } from '@parley/protocol';
import type { Page } from './message-store';
import type { RecentQuery } from './recent-cache';

export interface SeqWindow {
  /** First seq of the page. */
  from: number;
  /** Last seq of the page (to < from: the page is empty and needs no data). */
  to: number;
  /** Every seq in from..through must be cached (through ≥ to proves there are newer ones). */
  through: number;
  hasMore: boolean;
}

/** The window a query asks for; undefined when it cannot be known without the store. */
export function windowOf(q: RecentQuery): SeqWindow | undefined {
  const { before, after, limit, lastSeq } = q;
  if (after !== undefined) {
    if (lastSeq === undefined) {
      // Without the head, only a page with one more cached message after it is provably complete.
      return { from: after + 1, to: after + limit, through: after + limit + 1, hasMore: true };
    }
    const to = Math.min(after + limit, lastSeq);
    return { from: after + 1, to, through: to, hasMore: to < lastSeq };
  }
  let to: number;
  if (before !== undefined) to = lastSeq === undefined ? before - 1 : Math.min(before - 1, lastSeq);
  else if (lastSeq !== undefined) to = lastSeq;
  else return undefined;
  const from = Math.max(1, to - limit + 1);
  return { from, to, through: to, hasMore: from > 1 };
}

/**
 * The page, if `cached` (ascending, seqs within from..through) holds every
 * seq of the window; undefined otherwise.
 */
export function exactPage(w: SeqWindow, cached: readonly Message[]): Page | undefined {
  if (w.to < w.from) return { messages: [], hasMore: w.hasMore };
  if (cached.length !== w.through - w.from + 1) return undefined;
  for (let i = 0; i < cached.length; i++) if (cached[i]?.seq !== w.from + i) return undefined;
  return { messages: cached.slice(0, w.to - w.from + 1), hasMore: w.hasMore };
}
