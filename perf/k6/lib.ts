/**
 * What the four k6 scripts share: the scenario file, the target's URLs, and the HTTP set-up that
 * every load needs before it starts (sign-ups, rooms). Plain protocol-v1 calls (docs/protocol.md),
 * like any third-party client.
 *
 * Runs inside k6, not Node: imports carry their `.ts` extension (k6 resolves paths as written) and
 * only k6's own modules are available.
 */
import { sleep } from 'k6';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import type { Scenarios } from '../scenarios/types.ts';

/**
 * The scenarios, read once per VU at init time from the file the Node harness reads too: every
 * number of a load (users, rooms, rates, durations, pass marks) comes from there, none from here.
 */
export const scenarios: Scenarios = JSON.parse(open('../scenarios/scenarios.json'));

/** The gateway under test: `PARLEY_URL` (HTTP and WebSocket share the port). */
export const baseUrl: string = (__ENV.PARLEY_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

/** The WebSocket URL of a user's session (`/ws?token=`). */
export function wsUrl(token: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`;
}

/** Seconds as a k6 duration string. */
export function seconds(s: number): string {
  return `${Math.ceil(s)}s`;
}

/**
 * How long setup() may take: sign-ups hash a password each (two at a time per `users` process by
 * default), so a few hundred of them take a while on a small target.
 */
export const SETUP_TIMEOUT = '10m';

/** A signed-up load user, as handed from setup() to the VUs (setup data is copied as JSON). */
export interface Account {
  userId: string;
  username: string;
  token: string;
}

/** A load user and the one room it chats in. */
export interface Member extends Account {
  roomId: string;
}

/** What setup() hands to the VUs of a room-based load. */
export interface RoomsSetup {
  members: Member[];
  roomIds: string[];
}

/** Sign-ups in flight at once: the default `users` process hashes 2 and queues 16 (KDF_*). */
const SIGNUP_CONCURRENCY = Number(__ENV.PARLEY_SIGNUP_CONCURRENCY || 8);

/** Members a room may name at creation (protocol limit); the rest are invited one by one. */
const MEMBERS_AT_CREATION = 100;

/** Longest Retry-After that setup waits out; past it the target's limits are too low for a load. */
const MAX_RETRY_WAIT_S = 30;

/** A name unique to this run, so a load can run again against the same target. */
const runId = `${Date.now().toString(36).slice(-6)}${Math.floor(Math.random() * 1296)
  .toString(36)
  .padStart(2, '0')}`;

type Res = RefinedResponse<ResponseType | undefined>;

function jsonParams(token?: string): { headers: Record<string, string>; tags: { name: string } } {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  // One tag for all set-up calls, so they stay apart from the load's own requests.
  return { headers, tags: { name: 'setup' } };
}

/** The parsed JSON body of a response. */
export function bodyOf<T>(res: Res): T {
  return JSON.parse(typeof res.body === 'string' ? res.body : '{}') as T;
}

/**
 * How long to wait before retrying a refused set-up call, or undefined when it must not be
 * retried: 429 and 503 carry Retry-After; anything else (or a wait past MAX_RETRY_WAIT_S) fails.
 */
function retryWait(res: Res, what: string): number | undefined {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const wait = Number(res.headers['Retry-After'] ?? 1);
  if (wait > MAX_RETRY_WAIT_S) {
    throw new Error(
      `${what}: ${res.status}, retry after ${wait}s — raise the target's limits for a load test ` +
        `(perf/k6/README.md): ${String(res.body)}`,
    );
  }
  return Math.max(wait, 0.2);
}

function refused(res: Res, what: string): Error {
  return new Error(`${what}: HTTP ${res.status} ${String(res.body ?? res.error)}`);
}

/** One set-up call, retried while the target says to wait (rate limits, a full password queue). */
export function call(
  method: 'GET' | 'POST',
  path: string,
  opts: { token?: string; body?: unknown; expect: number },
): Res {
  const what = `${method} ${path}`;
  for (;;) {
    const res = http.request(
      method,
      baseUrl + path,
      opts.body === undefined ? null : JSON.stringify(opts.body),
      jsonParams(opts.token),
    );
    if (res.status === opts.expect) return res;
    const wait = retryWait(res, what);
    if (wait === undefined) throw refused(res, what);
    sleep(wait);
  }
}

/** Fails set-up at once, with the URL, when the target does not answer its health check. */
export function checkTarget(): void {
  const res = http.get(`${baseUrl}/healthz`, { tags: { name: 'setup' } });
  if (res.status !== 200) {
    throw new Error(`the target at ${baseUrl} (PARLEY_URL) is not healthy: ${res.status}`);
  }
}

/**
 * Signs up `count` users named `<prefix><run>_<i>`, a few at a time (http.batch), each retried
 * while the target asks to wait.
 */
export function signUpMany(count: number, prefix: string): Account[] {
  // Not the username, not common, not a pattern: what the sign-up password rules accept.
  const password = `Load ${runId} pass!`;
  const accounts: Account[] = new Array(count);
  let todo = Array.from({ length: count }, (_, i) => i);
  while (todo.length > 0) {
    const retry: number[] = [];
    let wait = 0;
    for (let at = 0; at < todo.length; at += SIGNUP_CONCURRENCY) {
      const chunk = todo.slice(at, at + SIGNUP_CONCURRENCY);
      const responses = http.batch(
        chunk.map((i) => ({
          method: 'POST',
          url: `${baseUrl}/api/v1/auth/signup`,
          body: JSON.stringify({ username: `${prefix}${runId}_${i}`, password }),
          params: jsonParams(),
        })),
      );
      chunk.forEach((i, k) => {
        const res = responses[k] as Res;
        if (res.status === 201) {
          const { user, token } = bodyOf<{ user: { id: string; username: string }; token: string }>(
            res,
          );
          accounts[i] = { userId: user.id, username: user.username, token };
          return;
        }
        const w = retryWait(res, 'POST /api/v1/auth/signup');
        if (w === undefined) throw refused(res, 'POST /api/v1/auth/signup');
        wait = Math.max(wait, w);
        retry.push(i);
      });
    }
    if (retry.length > 0) sleep(wait);
    todo = retry;
  }
  return accounts;
}

/** Which room a user is in: user i in room i mod rooms, so rooms differ in size by at most one. */
export function roomIndexOf(userIndex: number, rooms: number): number {
  return userIndex % rooms;
}

/**
 * Creates `rooms` group rooms over `accounts` (each user in exactly one, see roomIndexOf): the
 * room's first user creates it naming up to 100 others, then invites the rest one by one.
 */
export function createRooms(accounts: Account[], rooms: number, prefix: string): RoomsSetup {
  const members: Member[] = new Array(accounts.length);
  const roomIds: string[] = [];
  for (let r = 0; r < rooms; r++) {
    const inRoom = accounts.filter((_, i) => roomIndexOf(i, rooms) === r);
    const [creator, ...others] = inRoom;
    if (!creator) throw new Error(`room ${r} would be empty: fewer users than rooms`);
    const created = call('POST', '/api/v1/rooms', {
      token: creator.token,
      body: {
        name: `${prefix} ${runId} ${r}`,
        memberIds: others.slice(0, MEMBERS_AT_CREATION).map((a) => a.userId),
      },
      expect: 201,
    });
    const roomId = bodyOf<{ room: { id: string } }>(created).room.id;
    for (const a of others.slice(MEMBERS_AT_CREATION)) {
      call('POST', `/api/v1/rooms/${roomId}/members`, {
        token: creator.token,
        body: { userId: a.userId },
        expect: 200,
      });
    }
    roomIds.push(roomId);
  }
  accounts.forEach((a, i) => {
    members[i] = { ...a, roomId: roomIds[roomIndexOf(i, rooms)] as string };
  });
  return { members, roomIds };
}

/** The usual set-up of a room-based load: check the target, sign `users` up, make `rooms`. */
export function setUpRooms(users: number, rooms: number, prefix: string): RoomsSetup {
  checkTarget();
  return createRooms(signUpMany(users, prefix), rooms, prefix);
}
