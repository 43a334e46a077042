/**
 * Reading history: the recent cache first, MySQL when the cache cannot answer
 * exactly. The room's last seq (one primary-key read) is what lets the cache
 * prove a page complete — the cache itself cannot know whether its newest
 * entry is the room's newest message.
 */
import type { MessageStore, Page, PageQuery } from '@parley/message-store';
import type { RecentCache } from '@parley/message-store/recent-cache';
import type { Logger } from '@parley/runtime';

export type CacheOutcome = 'hit' | 'miss' | 'error';

export interface HistoryDeps {
  store: MessageStore;
  recent: RecentCache;
  log: Logger;
  /** Told how each read went (for the hit/miss metric). */
  onCache?: (outcome: CacheOutcome) => void;
}

/** @example const read = historyReader(deps); const page = await read(roomId, { after: 10, limit: 50 }); */
export function historyReader(deps: HistoryDeps) {
  return async (roomId: string, query: PageQuery): Promise<Page> => {
    // `before` pages are bounded by their own seq; the others end at the room's head.
    const lastSeq = query.before === undefined ? await deps.store.lastSeq(roomId) : undefined;
    let outcome: CacheOutcome;
    try {
      const cached = await deps.recent.range(roomId, { ...query, lastSeq });
      outcome = cached ? 'hit' : 'miss';
      if (cached) {
        deps.onCache?.(outcome);
        return cached;
      }
    } catch (err) {
      outcome = 'error';
      deps.log.warn({ err, roomId }, 'recent cache read failed; reading MySQL');
    }
    deps.onCache?.(outcome);
    const page = await deps.store.page(roomId, query);
    // A page that ends at the head repairs the cache (a failed add after a
    // commit, an expired or flushed key), so the next read of it is a hit.
    const endsAtHead = query.before === undefined && !(query.after !== undefined && page.hasMore);
    if (outcome === 'miss' && endsAtHead) await warm(deps, roomId, page);
    return page;
  };
}

async function warm(deps: HistoryDeps, roomId: string, page: Page): Promise<void> {
  try {
    await Promise.all(page.messages.map((m) => deps.recent.add(m)));
  } catch (err) {
    deps.log.warn({ err, roomId }, 'recent cache warm-up failed');
  }
}
