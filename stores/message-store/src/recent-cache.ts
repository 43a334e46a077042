/**
 * The recent-message cache port: the newest RECENT_MAX messages of each room,
 * so the pages clients ask for most (the latest, and sync after a short
 * disconnect) skip MySQL. It is only a cache: message-write fills it after
 * the commit, a failed add leaves a gap, and `range` answers only when it can
 * answer EXACTLY what MySQL would — otherwise `undefined`, and the caller
 * reads MySQL. A gap can therefore cost a cache miss, never hide a message.
 *
 * Adapters: `recent-cache.memory.ts`, `recent-cache.redis.ts`; both pass
 * `recent-cache.contract.ts`.
 */
import type { Message } from '@parley/protocol';
import type { Page, PageQuery } from './message-store';

/** Messages kept per room (the newest by seq). */
export const RECENT_MAX = 200;

export interface RecentQuery extends PageQuery {
  /**
   * The room's last seq, read from the store. Required to answer the latest
   * page; lets `after` pages end exactly at the room's head. The cache cannot
   * know it: the newest message is exactly the one whose add may have failed.
   */
  lastSeq?: number;
}

export interface RecentCache {
  /** Keeps a stored message; idempotent (the same seq replaces itself). */
  add(message: Message): Promise<void>;
  /** The page MySQL would return for `query`, or undefined when the cache cannot be sure of it. */
  range(roomId: string, query: RecentQuery): Promise<Page | undefined>;
  close?(): Promise<void>;
}
