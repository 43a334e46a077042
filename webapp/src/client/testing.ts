/**
 * Test doubles for the client core: a WebSocket the test drives from the
 * server's side, timers that run only when the test advances the clock, and
 * a fetch answering from a route table. Used by the unit tests only.
 */
import type { ServerFrame } from '@parley/protocol/frames';
import type { SocketFactory, SocketLike, Timers } from './connection';

export class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(data);
  }

  close(code = 1000): void {
    this.readyState = 3;
    this.closedWith = code;
  }

  /** The handshake succeeded and the gateway said `ready`. */
  accept(userId = 'u_me'): void {
    this.readyState = 1;
    this.onopen?.({});
    this.push({ type: 'ready', userId, sessionId: 's_1' });
  }

  push(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server (or the network) closed the socket. */
  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  frames(): Array<Record<string, unknown>> {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }

  framesOf(type: string): Array<Record<string, unknown>> {
    return this.frames().filter((f) => f.type === type);
  }
}

/** A WebSocket constructor that records every socket it makes. */
export function fakeWebSocket(): { WebSocket: SocketFactory; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  class Ctor extends FakeSocket {
    constructor(url: string, protocols: string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { WebSocket: Ctor, sockets };
}

interface Task {
  at: number;
  fn: () => void;
  every: number | null;
  delay: number;
}

/** Timers on a clock that moves only with `advance`. */
export class ManualClock implements Timers {
  time = 1_700_000_000_000;
  private nextId = 1;
  readonly tasks = new Map<number, Task>();

  now = (): number => this.time;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.time + ms, fn, every: null, delay: ms });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.tasks.delete(id as number);
  }

  setInterval(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.time + ms, fn, every: ms, delay: ms });
    return id;
  }

  clearInterval(id: unknown): void {
    this.tasks.delete(id as number);
  }

  /** The delays of the one-shot timers now waiting. */
  pendingDelays(): number[] {
    return [...this.tasks.values()].filter((t) => t.every === null).map((t) => t.delay);
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.tasks.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, t] = due;
      this.time = t.at;
      if (t.every === null) this.tasks.delete(id);
      else t.at += t.every;
      t.fn();
    }
    this.time = end;
  }
}

type Route = (req: {
  method: string;
  path: string;
  body: unknown;
  auth: string | null;
}) => { status: number; body?: unknown } | undefined;

/** A fetch answering `METHOD /path` (path without /api/v1) from a table; unknown routes are 404. */
export function fakeFetch(routes: Record<string, Route>) {
  const calls: Array<{ method: string; path: string; body: unknown; auth: string | null }> = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), 'http://parley.test');
    const method = init?.method ?? 'GET';
    const path = url.pathname.replace(/^\/api\/v1/, '') + url.search;
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const req = {
      method,
      path,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      auth: headers.authorization ?? null,
    };
    calls.push(req);
    const route = routes[`${method} ${url.pathname.replace(/^\/api\/v1/, '')}`];
    const r = route?.(req) ?? {
      status: 404,
      body: { error: { code: 'not_found', message: 'no such route' } },
    };
    return new Response(r.status === 204 ? null : JSON.stringify(r.body ?? {}), {
      status: r.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

/** A JWT-shaped token (unsigned: the client never checks signatures) expiring at `expMs`. */
export function fakeToken(expMs: number, sub = 'u_me'): string {
  const b64 = (o: object) =>
    btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp: Math.floor(expMs / 1000) })}.sig`;
}

export function memoryStorage(): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    key: (i: number) => [...data.keys()][i] ?? null,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

/** The value, or a test failure naming what was missing. */
export function defined<T>(v: T | null | undefined, what = 'value'): T {
  if (v === null || v === undefined) throw new Error(`expected a ${what}`);
  return v;
}
