/**
 * search: the read side of the Search service. `GET /api/v1/search` finds
 * messages in the caller's rooms only — the room list comes from the room
 * service on every query — with highlights, newest first or by relevance,
 * paged with an opaque cursor (search_after underneath).
 *
 * The query is plain text: it is analyzed like the indexed bodies and every
 * word must match; nothing in it is query syntax, so "AND (" or quotes are
 * just characters. A query with no searchable word, or too long, is a 400.
 */

import { LIMITS, SearchQuerySchema, type SearchResponse } from '@parley/protocol';
import {
  functionApp,
  ParleyError,
  parseWith,
  requireAuth,
  type TokenService,
} from '@parley/runtime';
import type { HostDeps } from '@parley/runtime/function-host';
import { decodeCursor, encodeCursor, type MessageSearchIndex } from '@parley/search-index';
import { queryTerms } from '@parley/search-index/text';
import type { Hono } from 'hono';
import { Histogram } from 'prom-client';
import type { RoomIdsOf } from './room-ids';

export interface SearchDeps extends HostDeps {
  index: MessageSearchIndex;
  /** The caller's room ids, from the room service. */
  roomIdsOf: RoomIdsOf;
  tokens: TokenService;
}

/** @example registerFunction('search', createSearchApp(deps)) */
export function createSearchApp(deps: SearchDeps): Hono {
  const app = functionApp(deps);
  const latency = new Histogram({
    name: 'parley_search_query_seconds',
    help: 'Time to answer a search: the room service lookup plus the index query',
    labelNames: ['sort', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [deps.registry],
  });

  app.get('/api/v1/search', requireAuth(deps.tokens), async (c) => {
    const { userId } = c.var.user;
    const query = parseWith(SearchQuerySchema, c.req.query());
    const terms = queryTerms(query.q);
    if (terms.length === 0) {
      throw new ParleyError('bad_request', 'q has no words to search for');
    }
    if (terms.length > LIMITS.searchQueryMaxTerms) {
      throw new ParleyError('bad_request', 'q has too many words; shorten it');
    }
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query.sort);
    const started = performance.now();
    let outcome = 'error';
    try {
      const mine = await deps.roomIdsOf(userId);
      if (query.roomId !== undefined && !mine.includes(query.roomId)) {
        outcome = 'refused';
        throw new ParleyError('not_member', 'you are not a member of this room');
      }
      const roomIds = query.roomId === undefined ? mine : [query.roomId];
      // One more than asked, to know whether there is a next page.
      const found = await deps.index.search({
        text: query.q,
        roomIds,
        sort: query.sort,
        limit: query.limit + 1,
        ...(after ? { after } : {}),
      });
      const page = found.slice(0, query.limit);
      const last = page.at(-1);
      const body: SearchResponse = {
        hits: page.map((h) => ({ message: h.message, highlight: h.highlight })),
        ...(found.length > query.limit && last
          ? { nextCursor: encodeCursor(query.sort, last.sort) }
          : {}),
      };
      outcome = 'ok';
      return c.json(body);
    } finally {
      latency.observe({ sort: query.sort, outcome }, (performance.now() - started) / 1000);
    }
  });

  return app;
}
