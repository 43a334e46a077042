/**
 * rooms: the read side of the Chat Room service. Answers from the room DB
 * that room-ops writes (the store is room-ops's; this function only reads).
 *
 * - `GET /api/v1/rooms` (Bearer): the caller's rooms.
 * - `GET /api/v1/rooms/:roomId` (Bearer): a room and its member ids, for members only.
 * - `GET /internal/rooms/:roomId/member-ids`: the membership cache's loader (404: no such room).
 * - `GET /internal/users/:userId/room-ids`: the rooms a user is in (the gateway subscribes to them),
 *   with their member counts (the gateway pushes read receipts and presence in small rooms only).
 *
 * `lastSeq` is 0 in every room here: the message service owns seqs and the
 * gateway overlays them.
 */

import { IdSchema } from '@parley/protocol';
import type { RoomStore } from '@parley/room-store';
import {
  functionApp,
  ParleyError,
  parseWith,
  requireAuth,
  type TokenService,
} from '@parley/runtime';
import type { HostDeps } from '@parley/runtime/function-host';
import type { Context, Hono } from 'hono';

export interface RoomsDeps extends HostDeps {
  store: RoomStore;
  tokens: TokenService;
}

/** @example registerFunction('rooms', createRoomsApp({ store, tokens, log, registry })) */
export function createRoomsApp(deps: RoomsDeps): Hono {
  const { store, tokens } = deps;
  const app = functionApp(deps);
  const auth = requireAuth(tokens);
  const idParam = (c: Context, name: string) => parseWith(IdSchema, c.req.param(name));

  app.get('/api/v1/rooms', auth, async (c) => {
    const { userId } = c.var.user;
    return c.json({ rooms: await store.roomsOf(userId) });
  });

  app.get('/api/v1/rooms/:roomId', auth, async (c) => {
    const { userId } = c.var.user;
    const roomId = idParam(c, 'roomId');
    const room = await store.getRoom(roomId);
    if (!room) throw new ParleyError('not_found', 'no such room');
    const memberIds = await store.memberIds(roomId);
    if (!memberIds.includes(userId)) {
      throw new ParleyError('not_member', 'you are not a member of this room');
    }
    return c.json({ room, memberIds });
  });

  app.get('/internal/rooms/:roomId/member-ids', async (c) => {
    const roomId = idParam(c, 'roomId');
    if (!(await store.getRoom(roomId))) throw new ParleyError('not_found', 'no such room');
    return c.json({ memberIds: await store.memberIds(roomId) });
  });

  app.get('/internal/users/:userId/room-ids', async (c) => {
    const rooms = await store.roomsOf(idParam(c, 'userId'));
    return c.json({
      roomIds: rooms.map((r) => r.id),
      memberCounts: Object.fromEntries(rooms.map((r) => [r.id, r.memberCount])),
    });
  });

  return app;
}
