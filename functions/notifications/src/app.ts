/**
 * notifications: the read side of the Notification service. Answers from the
 * notification DB that notify writes (this function only reads it).
 *
 * - `GET /api/v1/notifications?limit=&cursor=` (Bearer): the caller's inbox,
 *   newest first, with their unread total.
 * - `GET /internal/users/:userId/markers`: a user's read markers (the gateway
 *   loads them when the user's first socket connects, and for `GET /rooms`).
 * - `GET /internal/rooms/:roomId/markers?userIds=a,b`: some users' markers of
 *   one room (≤ 200 ids).
 *
 * A room never read has no marker: absent means 0. Unread counts are the
 * caller's arithmetic (the room's lastSeq − the marker), never stored.
 */
import { MARKERS_OF_ROOM_MAX, type NotificationStore } from '@parley/notification-store';
import { IdSchema, NotificationsQuerySchema } from '@parley/protocol';
import { functionApp, parseWith, requireAuth, type TokenService } from '@parley/runtime';
import type { HostDeps } from '@parley/runtime/function-host';
import type { Context, Hono } from 'hono';
import { z } from 'zod';

export interface NotificationsDeps extends HostDeps {
  store: NotificationStore;
  tokens: TokenService;
}

const UserIdsQuery = z.object({
  userIds: z
    .string({ error: 'required: comma-separated user ids' })
    .transform((s) => [...new Set(s.split(',').filter(Boolean))])
    .pipe(
      z
        .array(IdSchema)
        .max(MARKERS_OF_ROOM_MAX, `at most ${MARKERS_OF_ROOM_MAX} user ids per request`),
    ),
});

/** @example registerFunction('notifications', createNotificationsApp({ store, tokens, log, registry })) */
export function createNotificationsApp(deps: NotificationsDeps): Hono {
  const { store, tokens } = deps;
  const app = functionApp(deps);
  const idParam = (c: Context, name: string) => parseWith(IdSchema, c.req.param(name));

  app.get('/api/v1/notifications', requireAuth(tokens), async (c) => {
    const { userId } = c.var.user;
    const { limit, cursor } = parseWith(NotificationsQuerySchema, c.req.query());
    const [page, unreadTotal] = await Promise.all([
      store.inbox(userId, cursor === undefined ? { limit } : { limit, cursor }),
      store.unreadTotal(userId),
    ]);
    return c.json({
      notifications: page.notifications,
      unreadTotal,
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    });
  });

  // Internal routes: reachable only inside the cluster (the gateway never routes /internal).
  app.get('/internal/users/:userId/markers', async (c) => {
    return c.json({ markers: await store.markersOf(idParam(c, 'userId')) });
  });

  app.get('/internal/rooms/:roomId/markers', async (c) => {
    const roomId = idParam(c, 'roomId');
    const { userIds } = parseWith(UserIdsQuery, c.req.query());
    return c.json({ markers: userIds.length ? await store.markersOfRoom(roomId, userIds) : {} });
  });

  return app;
}
