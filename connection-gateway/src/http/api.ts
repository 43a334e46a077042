/**
 * The HTTP API v1 (`/api/v1`): reads are proxied to the HTTP functions (the
 * gateway authenticates first, then forwards the caller's token so each
 * function checks it again); commands are produced to Kafka and answered
 * when their result comes back (see CommandWaiter).
 *
 * Every request first passes the per-address token bucket
 * (RATE_HTTP_ADDRESS_*); authenticated routes then need a valid token of a
 * user who exists (middleware/auth) and pass the per-user bucket
 * (RATE_HTTP_USER_*). Login and sign-up pass the auth throttle
 * (middleware/auth-throttle) before the users function hashes anything.
 * Refusals are `429 rate_limited` with `Retry-After`.
 */
import { createEvent } from '@parley/eventing';
import {
  CreateRoomBodySchema,
  IdSchema,
  InviteBodySchema,
  LIMITS,
  LoginBodySchema,
  NotificationsReadBodySchema,
  OpenDmBodySchema,
  ReadBodySchema,
  type Room,
  type User,
} from '@parley/protocol';
import {
  bearerToken,
  jsonBody,
  KNOWN_ADDRESS_HEADER,
  newId,
  ParleyError,
  parseWith,
  type ServiceClient,
} from '@parley/runtime';
import { MemoryAttemptStore } from '@parley/runtime/attempts/attempt-store.memory';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { Counter } from 'prom-client';
import type { CommandWaiter } from '../commands';
import type { GatewayDeps } from '../deps';
import { verifyUser } from '../middleware/auth';
import { AuthThrottle, type LoginOutcome } from '../middleware/auth-throttle';
import { KeyedBuckets, rateLimit, rateLimited } from '../middleware/http-rate-limit';
import { requestAddress } from '../middleware/request-address';
import { readCommand, readMarkersOf } from '../reads';
import { roomSummaries } from '../room-summaries';

const SOURCE = 'connection-gateway';

/**
 * Forwards the request as it came (method, path, query, body, Authorization) and returns the
 * answer as it is. No other header of the client's is passed on; `extra` are the gateway's own.
 */
async function forward(
  c: Context,
  to: ServiceClient,
  extra: Record<string, string> = {},
): Promise<Response> {
  const url = new URL(c.req.url);
  const headers: Record<string, string> = {
    ...extra,
    'content-type': c.req.header('content-type') ?? 'application/json',
  };
  const auth = c.req.header('authorization');
  if (auth) headers.authorization = auth;
  const method = c.req.method;
  const init: RequestInit = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') init.body = await c.req.text();
  return passThrough(await to.request(url.pathname + url.search, init));
}

/** A function's answer, status and body as they are (with its Retry-After, if any), to the client. */
function passThrough(res: Response): Response {
  const headers: Record<string, string> = {
    'content-type': res.headers.get('content-type') ?? 'application/json',
  };
  const retryAfter = res.headers.get('retry-after');
  if (retryAfter) headers['retry-after'] = retryAfter;
  return new Response(res.body, { status: res.status, headers });
}

/** The username of a login body when the body is a valid login; else undefined. */
async function loginUsername(c: Context): Promise<string | undefined> {
  try {
    const parsed = LoginBodySchema.safeParse(JSON.parse(await c.req.text()));
    return parsed.success ? parsed.data.username : undefined;
  } catch {
    return undefined;
  }
}

const inSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** 200 success, 401 failure, 503 with Retry-After busy (the users function's hash queue), else other. */
function loginOutcome(res: Response): LoginOutcome {
  if (res.status === 200) return 'success';
  if (res.status === 401) return 'failure';
  if (res.status === 503 && res.headers.has('retry-after')) return 'busy';
  return 'other';
}

/** What the history route spends a page's bytes from (the per-user byte budget shared with `sync`). */
export interface HistoryByteBudget {
  takeBytes(userId: string, bytes: number): { ok: true } | { ok: false; retryAfterMs: number };
}

const summaries = (deps: GatewayDeps, roomIds: string[]) => roomSummaries(deps.messages, roomIds);

/** Who of `userIds` is online; undefined (and logged) while presence cannot be read. */
async function onlineOf(deps: GatewayDeps, userIds: string[]): Promise<Set<string> | undefined> {
  if (!deps.presence) return undefined;
  try {
    return await deps.presence.online(userIds);
  } catch (err) {
    deps.log.warn({ err }, 'presence unavailable');
    return undefined;
  }
}

/** Read markers of a room's members (≤ 200 per call); undefined (and logged) while unavailable. */
async function roomMarkers(
  deps: GatewayDeps,
  roomId: string,
  userIds: string[],
): Promise<Record<string, number> | undefined> {
  try {
    const r = await deps.notifications.getJson<{ markers: Record<string, number> }>(
      `/internal/rooms/${encodeURIComponent(roomId)}/markers?userIds=${userIds.map(encodeURIComponent).join(',')}`,
    );
    return r?.markers ?? {};
  } catch (err) {
    deps.log.warn({ err, roomId }, 'read receipts unavailable');
    return undefined;
  }
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

/**
 * @param opts.budgets the per-user byte budget history pages are counted against (src/budgets.ts);
 *   without it, history is limited by the request rate limits alone.
 * @param opts.now the clock of the throttles and rate limits, in ms (tests); Date.now by default.
 */
export function createApi(
  deps: GatewayDeps,
  waiter: CommandWaiter,
  opts: { budgets?: HistoryByteBudget; now?: () => number } = {},
): Hono {
  const api = new Hono();
  const { limits } = deps;
  const now = opts.now ?? Date.now;
  const attempts = deps.attempts ?? new MemoryAttemptStore();
  const throttle = new AuthThrottle(attempts, limits, deps.log, now);
  const perAddress = new KeyedBuckets(
    limits.RATE_HTTP_ADDRESS_PER_SEC,
    limits.RATE_HTTP_ADDRESS_BURST,
    now,
  );
  const perUser = new KeyedBuckets(limits.RATE_HTTP_USER_PER_SEC, limits.RATE_HTTP_USER_BURST, now);
  const refused = new Counter({
    name: 'parley_gateway_http_refused_total',
    help: 'HTTP API requests refused with 429, by rule',
    labelNames: ['rule'],
    registers: [deps.registry],
  });

  api.use('*', requestAddress(limits.TRUSTED_PROXY_HOPS));
  api.use(
    '*',
    rateLimit(
      perAddress,
      (c) => c.var.addressKey,
      'from this address',
      () => refused.inc({ rule: 'address' }),
    ),
  );

  /** A valid token of an existing user (401 / 503 otherwise), then the user's request budget. */
  const auth: MiddlewareHandler = async (c, next) => {
    c.set('user', await verifyUser(deps, bearerToken(c.req.header('authorization'))));
    const r = perUser.take(c.var.user.userId);
    if (!r.ok) {
      refused.inc({ rule: 'user' });
      return rateLimited(c, r.retryAfterMs, 'too many requests for this user; slow down');
    }
    await next();
  };

  api.post('/auth/signup', async (c) => {
    const verdict = await throttle.signup(c.var.addressKey);
    if (!verdict.ok) {
      refused.inc({ rule: 'signup' });
      const wait = inSeconds(verdict.retryAfterMs);
      return rateLimited(
        c,
        verdict.retryAfterMs,
        `too many sign-ups from here; try again in ${wait} s`,
      );
    }
    let res: Response;
    try {
      res = await forward(c, deps.users);
    } catch (err) {
      await throttle.signupDone(verdict.ticket, false);
      throw err;
    }
    // A created user and a taken username count (both cost the users function a lookup or a
    // hash); a refused body or a failure does not.
    await throttle.signupDone(verdict.ticket, res.status === 201 || res.status === 409);
    return res;
  });

  api.post('/auth/login', async (c) => {
    const username = await loginUsername(c);
    // Not a valid login body: the users function answers 400 without hashing anything.
    if (username === undefined) return forward(c, deps.users);
    const verdict = await throttle.login(username, c.var.addressKey);
    if (!verdict.ok) {
      refused.inc({ rule: 'login' });
      const wait = inSeconds(verdict.retryAfterMs);
      return rateLimited(c, verdict.retryAfterMs, `too many failed logins; try again in ${wait} s`);
    }
    let res: Response;
    try {
      // A login from an address that has logged in to the account before is hashed first.
      const priority: Record<string, string> = verdict.ticket.knownAddress
        ? { [KNOWN_ADDRESS_HEADER]: '1' }
        : {};
      res = await forward(c, deps.users, priority);
    } catch (err) {
      await throttle.loginDone(verdict.ticket, 'other');
      throw err;
    }
    await throttle.loginDone(verdict.ticket, loginOutcome(res));
    return res;
  });

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
    const [sums, markers] = await Promise.all([
      summaries(
        deps,
        rooms.map((r) => r.id),
      ),
      readMarkersOf(deps.notifications, deps.log, c.var.user.userId),
    ]);
    const out = rooms.map((r) => {
      const s = sums[r.id];
      const lastSeq = s?.lastSeq ?? 0;
      // Unread = the room's last seq − my read marker (docs/notifications.md). Without the markers
      // (notifications unavailable) 0: a missing badge misleads less than a whole history unread.
      return {
        ...r,
        lastSeq,
        unread: markers ? Math.max(0, lastSeq - (markers[r.id] ?? 0)) : 0,
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
    // Read receipts (readSeq) only in small rooms, as the live `read` frames.
    const small = memberIds.length <= LIMITS.liveSignalsRoomMaxMembers;
    const [users, sums, online, readSeqs] = await Promise.all([
      usersByIds(deps, memberIds),
      summaries(deps, [roomId]),
      onlineOf(deps, memberIds),
      small ? roomMarkers(deps, roomId, memberIds) : undefined,
    ]);
    const members = users.map((u) => ({
      ...u,
      ...(online ? { online: online.has(u.id) } : {}),
      ...(readSeqs ? { readSeq: readSeqs[u.id] ?? 0 } : {}),
    }));
    return c.json({ room: { ...room, lastSeq: sums[roomId]?.lastSeq ?? 0 }, members });
  });

  api.post('/rooms/:roomId/read', auth, async (c) => {
    const roomId = parseWith(IdSchema, c.req.param('roomId'));
    const { seq } = await jsonBody(c, ReadBodySchema);
    const actorId = c.var.user.userId;
    const event = await readCommand(deps, actorId, roomId, seq, SOURCE);
    const { read } = await waiter.result(actorId, event);
    if (!read) throw new ParleyError('internal', 'the read marker was not confirmed');
    return c.json(read, 200);
  });

  api.get('/notifications', auth, (c) => forward(c, deps.notifications));

  api.post('/notifications/read', auth, async (c) => {
    const body = await jsonBody(c, NotificationsReadBodySchema);
    const actorId = c.var.user.userId;
    const event = createEvent(
      'parley.notify.inbox.read',
      'all' in body
        ? { actorId, all: true }
        : { actorId, messageIds: [...new Set(body.messageIds)] },
      { source: SOURCE },
    );
    const { inbox } = await waiter.result(actorId, event);
    if (!inbox) throw new ParleyError('internal', 'the inbox change was not confirmed');
    return c.json(inbox, 200);
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

  api.get('/rooms/:roomId/messages', auth, async (c) => {
    const res = await forward(c, deps.messages);
    if (!opts.budgets || res.status !== 200) return res;
    // A page's bytes come out of the same per-user budget as `sync` answers.
    const body = await res.text();
    const grant = opts.budgets.takeBytes(c.var.user.userId, Buffer.byteLength(body));
    if (!grant.ok) {
      refused.inc({ rule: 'history_bytes' });
      return rateLimited(c, grant.retryAfterMs, 'too much history at once; slow down');
    }
    return new Response(body, { status: 200, headers: res.headers });
  });
  api.get('/search', auth, (c) => forward(c, deps.search));

  return api;
}
