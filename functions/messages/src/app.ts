/**
 * messages: the read side of the Message service — history pages for
 * clients, and the internal reads the gateway's sync and the room list need.
 */

import type { MessageStore } from '@parley/message-store';
import type { RecentCache } from '@parley/message-store/recent-cache';
import { HistoryQuerySchema, IdSchema, LIMITS, type Message } from '@parley/protocol';
import {
  functionApp,
  ParleyError,
  parseWith,
  requireAuth,
  type TokenService,
} from '@parley/runtime';
import type { HostDeps } from '@parley/runtime/function-host';
import type { Hono } from 'hono';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { historyReader } from './history';

export interface MessagesDeps extends HostDeps {
  store: MessageStore;
  recent: RecentCache;
  /** Membership with fallback to the room service: `membershipWithFallback(cache, loader)`. */
  isMember: (roomId: string, userId: string) => Promise<boolean>;
  tokens: TokenService;
}

/** The gateway's sync: everything after the client's last seq, in bounded pages. */
export const SyncQuerySchema = z.object({
  after: z.coerce.number().int().nonnegative(),
  limit: z.coerce.number().int().min(1).max(LIMITS.syncMessagesMax).default(LIMITS.syncMessagesMax),
});

/** Rooms per summaries request (the size of one user's room list page). */
export const SUMMARIES_MAX = 500;

export const SummariesQuerySchema = z.object({
  ids: z
    .string()
    .default('')
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(IdSchema).max(SUMMARIES_MAX)),
});

/** @example registerFunction('messages', createMessagesApp(deps)) */
export function createMessagesApp(deps: MessagesDeps): Hono {
  const app = functionApp(deps);
  const cacheReads = new Counter({
    name: 'parley_recent_cache_reads_total',
    help: 'History reads by whether the recent cache answered (hit), could not (miss) or failed (error)',
    labelNames: ['outcome'],
    registers: [deps.registry],
  });
  const read = historyReader({ ...deps, onCache: (outcome) => cacheReads.inc({ outcome }) });

  app.get('/api/v1/rooms/:roomId/messages', requireAuth(deps.tokens), async (c) => {
    const { userId } = c.var.user;
    const roomId = parseWith(IdSchema, c.req.param('roomId'));
    const query = parseWith(HistoryQuerySchema, c.req.query());
    if (!(await deps.isMember(roomId, userId))) {
      throw new ParleyError('not_member', 'you are not a member of this room');
    }
    return c.json(await read(roomId, query));
  });

  // Internal routes: reachable only inside the cluster; the gateway checked membership.
  app.get('/internal/rooms/summaries', async (c) => {
    const { ids } = parseWith(SummariesQuerySchema, c.req.query());
    const summaries = await deps.store.summaries(ids);
    const rooms: Record<string, { lastSeq: number; lastMessage?: Message }> = {};
    for (const [id, s] of summaries) rooms[id] = s;
    return c.json({ rooms });
  });

  app.get('/internal/rooms/:roomId/messages', async (c) => {
    const roomId = parseWith(IdSchema, c.req.param('roomId'));
    const query = parseWith(SyncQuerySchema, c.req.query());
    return c.json(await read(roomId, query));
  });

  return app;
}
