/**
 * rooms: the read side of the Chat Room service. Answers from the room DB
 * that room-ops writes (the store is room-ops's; this function only reads).
 *
 * - `GET /api/v1/rooms` (Bearer): the caller's rooms.
 * - `GET /api/v1/rooms/:roomId` (Bearer): a room and its member ids, for members only.
 * - `GET /internal/rooms/:roomId/member-ids`: the membership cache's loader (404: no such room).
 * - `GET /internal/users/:userId/room-ids`: the rooms a user is in (the gateway subscribes to them).
 *
 * `lastSeq` is 0 in every room here: the message service owns seqs and the
 * gateway overlays them.
 */

import { IdSchema } from '@parley/protocol';
import type { RoomStore } from '@parley/room-store';
import {
  bearerToken,
  installErrorHandler,
  type Logger,
  mountOps,
  ParleyError,
  parseWith,
  type TokenService,
} from '@parley/runtime';
import { type Context, Hono } from 'hono';
import type { Registry } from 'prom-client';

export interface RoomsDeps {
  store: RoomStore;
  tokens: TokenService;
  log: Logger;
  registry: Registry;
  /** Resolves true when the store answers (for `/readyz`). */
  ready?: () => Promise<boolean> | boolean;
}

/** @example registerFunction('rooms', createRoomsApp({ store, tokens, log, registry })) */
export function createRoomsApp(deps: RoomsDeps): Hono {
  const { store, tokens } = deps;
  const app = new Hono();
  installErrorHandler(app, deps.log);
  mountOps(app, { registry: deps.registry, ...(deps.ready ? { ready: deps.ready } : {}) });

  const caller = async (c: Context) =>
    (await tokens.verify(bearerToken(c.req.header('authorization')))).userId;
  const idParam = (c: Context, name: string) => parseWith(IdSchema, c.req.param(name));

  app.get('/api/v1/rooms', async (c) => {
    const userId = await caller(c);
    return c.json({ rooms: await store.roomsOf(userId) });
  });

  app.get('/api/v1/rooms/:roomId', async (c) => {
    const userId = await caller(c);
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
    return c.json({ roomIds: await store.roomIdsOf(idParam(c, 'userId')) });
  });

  return app;
}
