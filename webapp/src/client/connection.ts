/**
 * The one WebSocket to the gateway (`/ws`), kept open: reconnects with
 * exponential backoff and full jitter after a drop, stops for good on the
 * close codes that say "fix the client" or "log in again" (docs/protocol.md),
 * and after every `ready` asks for what it missed with a `sync`.
 */
import type { ClientFrame, ServerFrame } from '@parley/protocol/frames';
import { LIMITS } from '@parley/protocol/limits';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'offline';

/** The part of the browser's WebSocket this module uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = new (url: string, protocols: string[]) => SocketLike;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A connection open at least this long counts as stable: the next drop starts over. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, stableMs: 10_000 };
export const PING_INTERVAL_MS = 25_000;

/**
 * Full jitter: anywhere between 0 and the capped exponential step, so a
 * thousand clients dropped by one draining gateway do not come back at once.
 */
export function backoffDelay(attempt: number, random: () => number, b = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** Why the connection stopped for good. */
export type StopReason = 'session-expired' | 'refused' | 'stopped';

export interface ConnectionOptions {
  url: string;
  /** The current token; null = there is no valid session (the connection stops). */
  getToken: () => string | null;
  onFrame: (frame: ServerFrame) => void;
  onStatus: (status: ConnectionStatus) => void;
  /** The last seq this client has of every room it knows, for the `sync` after `ready`. */
  syncRooms: () => Record<string, number>;
  /** The socket closed for a reason a reconnect cannot fix. */
  onStop?: (reason: StopReason, detail: string) => void;
  WebSocket?: SocketFactory;
  timers?: Timers;
  random?: () => number;
  now?: () => number;
  backoff?: BackoffOptions;
  pingIntervalMs?: number;
}

const OPEN = 1;

/** Close codes after which reconnecting would only repeat the failure. */
const REFUSED_CODES = new Set([1008, 1009]);
const TOKEN_EXPIRED_CODE = 4001;

export class Connection {
  private socket: SocketLike | null = null;
  private status: ConnectionStatus = 'offline';
  private attempt = 0;
  private openedAt = 0;
  private lastFrameAt = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private running = false;
  /** The browser reported the network gone and has not reported it back: show 'offline'. */
  private networkDown = false;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly backoff: BackoffOptions;
  private readonly pingMs: number;

  constructor(private readonly opts: ConnectionOptions) {
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof setTimeout>),
      setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
      clearInterval: (id) => globalThis.clearInterval(id as ReturnType<typeof setInterval>),
    };
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.pingMs = opts.pingIntervalMs ?? PING_INTERVAL_MS;
  }

  get state(): ConnectionStatus {
    return this.status;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.connect('connecting');
  }

  /** Closes the socket and stays closed (log out). */
  stop(): void {
    this.halt();
    this.setStatus('offline');
  }

  /** The network is back (the browser's `online` event): skip the rest of the backoff. */
  reconnectNow(): void {
    this.networkDown = false;
    if (!this.running || this.socket) return;
    this.clearRetry();
    this.connect('reconnecting');
  }

  /**
   * The browser says the network is gone (its `offline` event): drop the
   * socket now instead of waiting for pings to go unanswered, and show
   * 'offline'. Retries keep their backoff; `reconnectNow` cuts it short.
   */
  networkLost(): void {
    if (!this.running) return;
    const ws = this.socket;
    this.socket = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(4000, 'network lost');
    }
    this.stopPing();
    this.networkDown = true;
    this.scheduleRetry();
    this.setStatus('offline');
  }

  /** Sends when open; false otherwise (the caller keeps the frame and sends it after `ready`). */
  send(frame: ClientFrame): boolean {
    if (!this.socket || this.socket.readyState !== OPEN || this.status !== 'open') return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Asks for everything after the given seqs, in frames of at most LIMITS.syncRoomsMax rooms. */
  sync(rooms: Record<string, number>): void {
    const ids = Object.keys(rooms);
    for (let i = 0; i < ids.length; i += LIMITS.syncRoomsMax) {
      const chunk: Record<string, number> = {};
      for (const id of ids.slice(i, i + LIMITS.syncRoomsMax)) chunk[id] = rooms[id] as number;
      this.send({ type: 'sync', rooms: chunk });
    }
  }

  private connect(status: 'connecting' | 'reconnecting'): void {
    const token = this.opts.getToken();
    if (!token) {
      this.halt();
      this.setStatus('offline');
      this.opts.onStop?.('session-expired', 'no valid session');
      return;
    }
    this.setStatus(this.networkDown ? 'offline' : status);
    const Ctor = this.opts.WebSocket ?? (globalThis.WebSocket as unknown as SocketFactory);
    const ws = new Ctor(this.opts.url, ['parley.v1', `bearer.${token}`]);
    this.socket = ws;
    ws.onopen = () => {
      this.openedAt = this.now();
      this.lastFrameAt = this.openedAt;
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    // A failed handshake shows up as an error then a close (1006): the close decides.
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.socket !== ws) return;
      this.closed(ev.code, ev.reason);
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    this.lastFrameAt = this.now();
    if (frame.type === 'ready') {
      // Open for sends only once the gateway has subscribed us to our rooms.
      this.networkDown = false;
      this.setStatus('open');
      this.startPing();
      this.opts.onFrame(frame);
      this.sync(this.opts.syncRooms());
      return;
    }
    this.opts.onFrame(frame);
  }

  private closed(code: number, reason: string): void {
    this.socket = null;
    this.stopPing();
    if (!this.running) return;
    if (code === TOKEN_EXPIRED_CODE) {
      this.halt();
      this.setStatus('offline');
      this.opts.onStop?.('session-expired', reason);
      return;
    }
    if (REFUSED_CODES.has(code)) {
      this.halt();
      this.setStatus('offline');
      this.opts.onStop?.('refused', reason || `closed with ${code}`);
      return;
    }
    // Everything else (1000 from the server, 1001 draining, 1006 dropped, 1013 try later) retries.
    this.scheduleRetry();
    this.setStatus(this.networkDown ? 'offline' : 'reconnecting');
  }

  private scheduleRetry(): void {
    if (this.openedAt > 0 && this.now() - this.openedAt >= this.backoff.stableMs) this.attempt = 0;
    this.openedAt = 0;
    const delay = backoffDelay(this.attempt, this.random, this.backoff);
    this.attempt++;
    this.clearRetry();
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (this.running) this.connect('reconnecting');
    }, delay);
  }

  private startPing(): void {
    this.stopPing();
    this.pingTimer = this.timers.setInterval(() => {
      // Two intervals without any frame (not even a pong): the socket is dead without knowing it.
      if (this.now() - this.lastFrameAt > 2 * this.pingMs) {
        this.socket?.close(4000, 'no answer to ping');
        if (this.socket) this.closed(1006, 'no answer to ping');
        return;
      }
      this.send({ type: 'ping' });
    }, this.pingMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) this.timers.clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private halt(): void {
    this.running = false;
    this.clearRetry();
    this.stopPing();
    const ws = this.socket;
    this.socket = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(1000, 'bye');
    }
  }

  private setStatus(s: ConnectionStatus): void {
    if (this.status === s) return;
    this.status = s;
    this.opts.onStatus(s);
  }
}
