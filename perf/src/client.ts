/**
 * A small protocol-v1 client for tests and benchmarks: HTTP calls and a
 * WebSocket that records every frame, with `next(predicate)` to await a
 * frame. It speaks only the public protocol, like any third-party client.
 */
import { randomBytes } from 'node:crypto';
import type { ServerFrame, User } from '@parley/protocol';
import WebSocket from 'ws';

export interface Account {
  user: User;
  token: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

export class Api {
  constructor(readonly baseUrl: string) {}

  async call<T>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new HttpError(res.status, body);
    return body as T;
  }

  /** Signs up a fresh user with a unique name (prefix + random). */
  async signup(prefix = 'user', password = 'correct horse battery'): Promise<Account> {
    const username = `${prefix}_${randomBytes(4).toString('hex')}`.slice(0, 32);
    return this.call<Account>('POST', '/api/v1/auth/signup', { body: { username, password } });
  }

  wsUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/ws`;
  }
}

export class WsClient {
  readonly frames: ServerFrame[] = [];
  private waiters: { pred: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  closed: { code: number; reason: string } | undefined;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w(this.closed);
    });
  }

  /** Connects and waits for `ready`. */
  static async connect(api: Api, token: string, opts: { origin?: string } = {}): Promise<WsClient> {
    const ws = new WebSocket(`${api.wsUrl()}?token=${encodeURIComponent(token)}`, {
      ...(opts.origin ? { origin: opts.origin } : {}),
    });
    const client = new WsClient(ws);
    const ready = client.next((f) => f.type === 'ready', 15_000);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new HttpError(res.statusCode ?? 0, null)),
      );
    });
    await ready;
    return client;
  }

  /** Tries a handshake and returns the HTTP status it was refused with (or 101). */
  static async handshakeStatus(
    url: string,
    opts: { origin?: string; protocols?: string[] } = {},
  ): Promise<number> {
    const ws = new WebSocket(url, opts.protocols ?? [], opts.origin ? { origin: opts.origin } : {});
    return new Promise<number>((resolve) => {
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('error', () => resolve(0));
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or future) matching `pred`. */
  next<T extends ServerFrame = ServerFrame>(
    pred: (f: ServerFrame) => boolean,
    timeoutMs = 15_000,
    fromIndex = 0,
  ): Promise<T> {
    const seen = this.frames.slice(fromIndex).find(pred);
    if (seen) return Promise.resolve(seen as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `timed out waiting for a frame; last frames: ${JSON.stringify(this.frames.slice(-3))}`,
          ),
        );
      }, timeoutMs);
      const done = (f: ServerFrame) => {
        clearTimeout(timer);
        resolve(f as T);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Waits until `count` frames match `pred`. */
  async waitForCount(
    pred: (f: ServerFrame) => boolean,
    count: number,
    timeoutMs = 30_000,
  ): Promise<ServerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.frames.filter(pred);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline)
        throw new Error(`expected ${count} frames, got ${matching.length}`);
      await this.next(pred, Math.max(1, deadline - Date.now()), this.frames.length).catch(
        () => undefined,
      );
    }
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}
