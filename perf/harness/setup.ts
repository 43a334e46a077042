/**
 * Setting a load run up through the public protocol: users signed up, rooms created, one lean
 * WebSocket per user (no frame kept: a load client must stay cheap per frame), spread over client
 * addresses 127.0.0.x so per-address caps of a gateway started elsewhere bite less.
 */
import type { Room } from '@parley/protocol';
import WebSocket from 'ws';
import { type Account, type Api, HttpError } from '../src/client';

/** Runs `fn` over `items` with at most `limit` in flight; results in order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Retries `fn` while the server says it is busy or throttling (503, 429), with a growing wait. */
export async function retryBusy<T>(fn: () => Promise<T>, attempts = 30): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const busy = err instanceof HttpError && (err.status === 503 || err.status === 429);
      if (!busy || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(i, 5))));
    }
  }
}

/**
 * Signs up `n` users. Password hashing is deliberately slow (scrypt, a couple at a time per users
 * function), so a few in flight and a retry when its queue is full.
 */
export async function signupMany(
  api: Api,
  n: number,
  prefix: string,
  onProgress?: (done: number) => void,
): Promise<Account[]> {
  let done = 0;
  return pool(Array.from({ length: n }), 4, async () => {
    const acc = await retryBusy(() => api.signup(prefix));
    if (++done % 50 === 0) onProgress?.(done);
    return acc;
  });
}

export interface LoadRoom {
  id: string;
  /** Indices into the accounts, the creator first. */
  members: number[];
  /** The room's last seq when it was set up (what the run's seqs start after). */
  baseline: number;
}

/** `rooms` rooms, account i in room i mod rooms (so equal sizes when rooms divides the count). */
export async function createRooms(
  api: Api,
  accounts: readonly Account[],
  rooms: number,
  name: string,
): Promise<LoadRoom[]> {
  const groups: number[][] = Array.from({ length: rooms }, () => []);
  for (let i = 0; i < accounts.length; i++) groups[i % rooms]?.push(i);
  return pool(groups, 4, async (members, r) => {
    const [creator, ...others] = members as [number, ...number[]];
    const owner = accounts[creator] as Account;
    // A room is created with up to 100 members named; larger ones get the rest added after.
    const first = others.slice(0, 99);
    const { room } = await retryBusy(() =>
      api.call<{ room: Room }>('POST', '/api/v1/rooms', {
        token: owner.token,
        body: { name: `${name} ${r}`, memberIds: first.map((i) => accounts[i]?.user.id) },
      }),
    );
    for (const i of others.slice(99))
      await retryBusy(() =>
        api.call('POST', `/api/v1/rooms/${room.id}/members`, {
          token: owner.token,
          body: { userId: accounts[i]?.user.id },
        }),
      );
    return { id: room.id, members, baseline: room.lastSeq };
  });
}

/** The client address of socket i: 127.0.0.1 … 127.0.0.250, `perAddress` sockets on each, then 127.0.1.x … */
export function localAddressFor(i: number, perAddress: number): string {
  const a = Math.floor(i / perAddress);
  return `127.0.${Math.floor(a / 250)}.${(a % 250) + 1}`;
}

/**
 * Opens a WebSocket and resolves once the server says `ready` (the session is subscribed to the
 * user's rooms). No permessage-deflate, as most load clients and the gateway's default.
 */
export function connectSocket(
  wsUrl: string,
  token: string,
  localAddress?: string,
  timeoutMs = 30_000,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`, {
      perMessageDeflate: false,
      // The client's CPU shares the cores with what it measures: no UTF-8 check of frames it parses anyway.
      skipUTF8Validation: true,
      ...(localAddress ? { localAddress } : {}),
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no ready frame in time'));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      ws.removeAllListeners('message');
      reject(err);
    };
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => {
      fail(new HttpError(res.statusCode ?? 0, null));
      ws.terminate();
    });
    ws.on('message', function onReady(data: Buffer) {
      if (!data.toString().startsWith('{"type":"ready"')) return;
      clearTimeout(timer);
      ws.off('message', onReady);
      ws.off('error', fail);
      // Later errors surface as a close, which the runner counts.
      ws.on('error', () => {});
      resolve(ws);
    });
  });
}

/** One socket per account, `concurrency` handshakes in flight, spread over client addresses. */
export function connectAll(
  wsUrl: string,
  accounts: readonly Account[],
  opts: { concurrency?: number; perAddress?: number } = {},
): Promise<WebSocket[]> {
  return pool(accounts, opts.concurrency ?? 50, (acc, i) =>
    retryBusy(() => connectSocket(wsUrl, acc.token, localAddressFor(i, opts.perAddress ?? 90)), 5),
  );
}
