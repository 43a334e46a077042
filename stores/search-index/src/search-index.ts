/**
 * The search index port of the Search service: message-index writes it,
 * search reads it. Two adapters, one contract (search-index.contract.ts):
 * Elasticsearch (search-index.es.ts) and memory (search-index.memory.ts).
 *
 * Versioning: a message's index version is the time of its latest change
 * (`editedTs`, else `ts`), and a write with a version not newer than the
 * stored one is `stale` and changes nothing — so replayed or out-of-order
 * events never bring older text back. A deleted message stays in the index
 * as a tombstone (`deleted: true`, empty body) that search never returns,
 * because a removed document would let a replayed create resurrect it.
 */
import type { Message } from '@parley/protocol';
import { ParleyError } from '@parley/runtime';
import { z } from 'zod';
import type { HighlightSegment } from './search-text';

export type { HighlightSegment } from './search-text';

/** The version a message is indexed with: newer changes win. */
export const indexVersion = (m: Message): number => m.editedTs ?? m.ts;

/** What one write did. `rejected` can never succeed (dead-letter it); `retry` might later. */
export type ApplyResult =
  | { outcome: 'applied' }
  | { outcome: 'stale' }
  | { outcome: 'rejected'; reason: string }
  | { outcome: 'retry'; reason: string };

export type SearchSort = 'recent' | 'relevance';

/** Sort values of a hit, as `search_after` takes them back. */
export type SortValues = (string | number)[];

export interface SearchRequest {
  /** The user's query; callers validate it (see `queryTerms`). */
  text: string;
  /** Only these rooms — the caller's, from the room service. Never empty. */
  roomIds: readonly string[];
  sort: SearchSort;
  limit: number;
  /** The `sort` of the last hit of the previous page. */
  after?: SortValues;
}

export interface SearchHit {
  message: Message;
  highlight: HighlightSegment[];
  sort: SortValues;
}

export interface MessageSearchIndex {
  /** Creates the index (and whatever it needs) if missing; safe to call concurrently and repeatedly. */
  ensureIndex(): Promise<void>;
  /** Writes messages (new, edited or deleted), one result per message, in order. */
  apply(messages: readonly Message[]): Promise<ApplyResult[]>;
  /** Newest first (`recent`) or best first (`relevance`); deleted messages never appear. */
  search(req: SearchRequest): Promise<SearchHit[]>;
  /** Makes every applied write searchable now (tests and benchmarks; normally ~1 s). */
  refresh(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const CursorSchema = z.object({
  s: z.enum(['recent', 'relevance']),
  v: z
    .array(z.union([z.string().max(128), z.number()]))
    .min(2)
    .max(3),
});

/** An opaque page cursor: the sort mode and the last hit's sort values. */
export function encodeCursor(sort: SearchSort, values: SortValues): string {
  return Buffer.from(JSON.stringify({ s: sort, v: values })).toString('base64url');
}

/** @throws ParleyError bad_request for a cursor that is not ours or belongs to another sort. */
export function decodeCursor(cursor: string, sort: SearchSort): SortValues {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ParleyError('bad_request', 'invalid cursor');
  }
  const c = CursorSchema.safeParse(parsed);
  if (!c.success) throw new ParleyError('bad_request', 'invalid cursor');
  if (c.data.s !== sort) throw new ParleyError('bad_request', 'the cursor belongs to another sort');
  return c.data.v;
}
