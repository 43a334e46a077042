/**
 * Calls from one Parley component to another's HTTP function. The transport
 * is a fetch-like function: the global fetch against a URL in the real mode,
 * or the target hono app's own `fetch` in the embedded mode — the same
 * requests, the same handlers, no sockets.
 *
 * In the real mode `getJson` — the internal lookups on hot paths (three per WebSocket handshake
 * at the gateway, membership and user lookups in the functions) — goes over node:http with a
 * keep-alive agent instead: the same request and the same answers for about half the CPU of
 * fetch (undici's WHATWG Request/Response/streams), measured by perf/bench/peer. Every call's
 * timeout is a timer cleared when the call ends (an `AbortSignal.timeout` lives on for its whole
 * 10 s and then fires, a DOMException and an abort event each, though the call is long done).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ERROR_CODES, type ErrorCode } from '@parley/protocol';
import { ParleyError } from './errors';

export type FetchLike = (request: Request) => Promise<Response>;

export interface ServiceClient {
  /** GET a JSON resource; null on 404; ParleyError otherwise. */
  getJson<T>(path: string, init?: { headers?: Record<string, string> }): Promise<T | null>;
  /** Any request; returns the raw Response (for the gateway's proxying). */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** Keep-alive agents shared by every real-mode client of this process (sockets per origin). */
const agents = {
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true }),
};

const unreachable = (base: string, path: string, err: unknown) =>
  // The address stays in the cause (logged), out of the message (which a client may see).
  new ParleyError('unavailable', 'a service Parley depends on is unreachable', {
    cause: new Error(`${base}${path.split('?')[0]} unreachable`, { cause: err }),
  });

/**
 * A GET over node:http(s): its status and body text, or a rejection (unreachable, timed out).
 * A kept-alive socket the server closed just as it was reused is retried once on a fresh one
 * (what Node's documentation advises for `reusedSocket`; a GET is safe to repeat).
 */
function httpGet(
  url: URL,
  headers: Record<string, string> | undefined,
  timeoutMs: number,
  retried = false,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { agent: https ? agents.https : agents.http, headers },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    function fail(err: Error & { code?: string }) {
      clearTimeout(timer);
      if (!retried && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE'))
        resolve(httpGet(url, headers, timeoutMs, true));
      else reject(err);
    }
    req.on('error', fail);
    req.end();
  });
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null; // not JSON: no code to pass on
  }
}

/** What getJson makes of an answer: the JSON; null for 404; a ParleyError otherwise. */
function jsonAnswer<T>(base: string, path: string, status: number, text: string): T | null {
  if (status === 404) return null;
  if (status < 200 || status > 299) {
    const body = parseOrNull(text) as { error?: { code?: string; message?: string } } | null;
    const code = body?.error?.code;
    if (status < 500 && code && Object.hasOwn(ERROR_CODES, code)) {
      throw new ParleyError(code as ErrorCode, body?.error?.message ?? code);
    }
    throw new ParleyError('unavailable', 'a service Parley depends on failed', {
      cause: new Error(`${base}${path.split('?')[0]} answered ${status} ${code ?? ''}`),
    });
  }
  return JSON.parse(text) as T;
}

/**
 * @example const users = serviceClient('http://127.0.0.1:8101'); await users.getJson('/internal/users?ids=a,b')
 * @example const users = serviceClient('http://users.internal', (req) => usersApp.fetch(req))
 */
export function serviceClient(
  baseUrl: string,
  fetchImpl?: FetchLike,
  timeoutMs = 10_000,
): ServiceClient {
  const base = baseUrl.replace(/\/$/, '');
  const transport: FetchLike = fetchImpl ?? ((r) => fetch(r));
  /** A request whose timeout covers the whole call, `use` included; the timer is then cleared. */
  const withTimeout = async <R>(
    path: string,
    init: RequestInit,
    use: (res: Response) => Promise<R>,
  ): Promise<R> => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      let res: Response;
      try {
        res = await transport(new Request(base + path, { ...init, signal: abort.signal }));
      } catch (err) {
        throw unreachable(base, path, err);
      }
      return await use(res);
    } finally {
      clearTimeout(timer);
    }
  };
  const request = async (path: string, init: RequestInit = {}) => {
    try {
      return await transport(
        new Request(base + path, {
          ...init,
          // The caller reads the body (the gateway streams it on): the signal must outlive this.
          signal: init.signal ?? AbortSignal.timeout(timeoutMs),
        }),
      );
    } catch (err) {
      throw unreachable(base, path, err);
    }
  };
  return {
    request,
    async getJson<T>(path: string, init?: { headers?: Record<string, string> }) {
      if (!fetchImpl) {
        let answer: { status: number; text: string };
        try {
          answer = await httpGet(new URL(base + path), init?.headers, timeoutMs);
        } catch (err) {
          throw unreachable(base, path, err);
        }
        return jsonAnswer<T>(base, path, answer.status, answer.text);
      }
      return withTimeout(path, init?.headers ? { headers: init.headers } : {}, async (res) =>
        jsonAnswer<T>(base, path, res.status, await res.text()),
      );
    },
  };
}
