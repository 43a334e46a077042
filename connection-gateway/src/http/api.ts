/**
 * The HTTP API v1 (`/api/v1`): reads are proxied to the HTTP functions (the
 * gateway authenticates first, then forwards the caller's token so each
 * function checks it again); commands are produced to Kafka and answered
 * when their result comes back (see CommandWaiter).
 */
import { createEvent } from '@parley/eventing';
import {
  CreateRoomBodySchema,
  IdSchema,
  InviteBodySchema,
  type Message,
  OpenDmBodySchema,
  type Room,
  type User,
} from '@parley/protocol';
import { jsonBody, newId, ParleyError, parseWith, type ServiceClient } from '@parley/runtime';
import { type Context, Hono } from 'hono';
import type { CommandWaiter } from '../commands';
import type { GatewayDeps } from '../deps';
import { requireAuth } from '../middleware/auth';

const SOURCE = 'connection-gateway';

/** Forwards the request as it came (method, path, query, body, Authorization) and returns the answer as it is. */
async function forward(c: Context, to: ServiceClient): Promise<Response> {
  const url = new URL(c.req.url);
  const headers: Record<string, string> = {
    'content-type': c.req.header('content-type') ?? 'application/json',
  };
  const auth = c.req.header('authorization');
  if (auth) headers.authorization = auth;
  const method = c.req.method;
  const init: RequestInit = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') init.body = await c.req.text();
  return passThrough(await to.request(url.pathname + url.search, init));
}

/** A function's answer, status and body as they are, to the client. */
function passThrough(res: Response): Response {
  return new Response(res.body, {
    status: res.status,
    headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' },
  });
}

type Summary = { lastSeq: number; lastMessage?: Message };

async function summaries(deps: GatewayDeps, roomIds: string[]): Promise<Record<string, Summary>> {
  if (roomIds.length === 0) return {};
  const out: Record<string, Summary> = {};
  for (let i = 0; i < roomIds.length; i += 500) {
    const ids = roomIds
      .slice(i, i + 500)
      .map(encodeURIComponent)
      .join(',');
    const r = await deps.messages.getJson<{ rooms: Record<string, Summary> }>(
      `/internal/rooms/summaries?ids=${ids}`,
    );
    Object.assign(out, r?.rooms ?? {});
  }
  return out;
}

/** The users function answers at most 200 ids per call (INTERNAL_LOOKUP_MAX_IDS). */
const USERS_PER_LOOKUP = 200;

async function usersByIds(deps: GatewayDeps, ids: string[]): Promise<User[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += USERS_PER_LOOKUP)
    chunks.push(ids.slice(i, i + USERS_PER_LOOKUP));
  const answers = await Promise.all(
    chunks.map((chunk) =>
      deps.users.getJson<{ users: User[] }>(
        `/internal/users?ids=${chunk.map(encodeURIComponent).join(',')}`,
      ),
    ),
  );
  return answers.flatMap((a) => a?.users ?? []);
}

export function createApi(deps: GatewayDeps, waiter: CommandWaiter): Hono {
  const api = new Hono();
  const auth = requireAuth(deps.tokens);

  api.post('/auth/signup', (c) => forward(c, deps.users));
  api.post('/auth/login', (c) => forward(c, deps.users));
  api.get('/me', auth, (c) => forward(c, deps.users));
  api.get('/users', auth, (c) => forward(c, deps.users));

  api.post('/rooms', auth, async (c) => {
    const body = await jsonBody(c, CreateRoomBodySchema);
    const actorId = c.var.user.userId;
    const event = createEvent(
      'parley.room.create',
      {
        actorId,
        roomId: newId('r'),
        name: body.name,
        memberIds: [...new Set(body.memberIds)].filter((m) => m !== actorId),
      },
      { source: SOURCE },
    );
    return c.json({ room: await waiter.run(actorId, event) }, 201);
  });

  api.post('/dms', auth, async (c) => {
    const body = await jsonBody(c, OpenDmBodySchema);
    const actorId = c.var.user.userId;
    if (body.userId === actorId) throw new ParleyError('conflict', 'a DM needs another user');
    const event = createEvent(
      'parley.room.dm.open',
      { actorId, roomId: newId('r'), userId: body.userId },
      { source: SOURCE },
    );
    return c.json({ room: await waiter.run(actorId, event) }, 201);
  });

  api.get('/rooms', auth, async (c) => {
    const res = await deps.rooms.request('/api/v1/rooms', {
      headers: { authorization: c.req.header('authorization') ?? '' },
    });
    if (!res.ok) return passThrough(res);
    const { rooms } = (await res.json()) as { rooms: Room[] };
    const sums = await summaries(
      deps,
      rooms.map((r) => r.id),
    );
    const out = rooms.map((r) => {
      const s = sums[r.id];
      // Unread counts arrive with the notification service; until then 0.
      return {
        ...r,
        lastSeq: s?.lastSeq ?? 0,
        unread: 0,
        ...(s?.lastMessage ? { lastMessage: s.lastMessage } : {}),
      };
    });
    out.sort((a, b) => (b.lastMessage?.ts ?? 0) - (a.lastMessage?.ts ?? 0));
    return c.json({ rooms: out });
  });

  api.get('/rooms/:roomId', auth, async (c) => {
    const roomId = parseWith(IdSchema, c.req.param('roomId'));
    const res = await deps.rooms.request(`/api/v1/rooms/${roomId}`, {
      headers: { authorization: c.req.header('authorization') ?? '' },
    });
    if (!res.ok) return passThrough(res);
    const { room, memberIds } = (await res.json()) as { room: Room; memberIds: string[] };
    const [users, sums] = await Promise.all([
      usersByIds(deps, memberIds),
      summaries(deps, [roomId]),
    ]);
    return c.json({ room: { ...room, lastSeq: sums[roomId]?.lastSeq ?? 0 }, members: users });
  });

  api.post('/rooms/:roomId/members', auth, async (c) => {
    const roomId = parseWith(IdSchema, c.req.param('roomId'));
    const body = await jsonBody(c, InviteBodySchema);
    const actorId = c.var.user.userId;
    const event = createEvent(
      'parley.room.member.invite',
      { actorId, roomId, userId: body.userId },
      { source: SOURCE },
    );
    return c.json({ room: await waiter.run(actorId, event) }, 200);
  });

  api.delete('/rooms/:roomId/members/me', auth, async (c) => {
    const roomId = parseWith(IdSchema, c.req.param('roomId'));
    const actorId = c.var.user.userId;
    await waiter.run(
      actorId,
      createEvent('parley.room.member.leave', { actorId, roomId }, { source: SOURCE }),
    );
    return c.body(null, 204);
  });

  api.get('/rooms/:roomId/messages', auth, (c) => forward(c, deps.messages));
  api.get('/search', auth, (c) => forward(c, deps.search));

  return api;
}
