/**
 * Calls from one Parley component to another's HTTP function. The transport
 * is a fetch-like function: the global fetch against a URL in the real mode,
 * or the target hono app's own `fetch` in the embedded mode — the same
 * requests, the same handlers, no sockets.
 */
import { ERROR_CODES, type ErrorCode } from '@parley/protocol';
import { ParleyError } from './errors';

export type FetchLike = (request: Request) => Promise<Response>;

export interface ServiceClient {
  /** GET a JSON resource; null on 404; ParleyError otherwise. */
  getJson<T>(path: string, init?: { headers?: Record<string, string> }): Promise<T | null>;
  /** Any request; returns the raw Response (for the gateway's proxying). */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * @example const users = serviceClient('http://127.0.0.1:8101'); await users.getJson('/internal/users?ids=a,b')
 * @example const users = serviceClient('http://users.internal', (req) => usersApp.fetch(req))
 */
export function serviceClient(
  baseUrl: string,
  fetchImpl: FetchLike = (r) => fetch(r),
  timeoutMs = 10_000,
): ServiceClient {
  const base = baseUrl.replace(/\/$/, '');
  const request = async (path: string, init: RequestInit = {}) => {
    try {
      return await fetchImpl(
        new Request(base + path, {
          ...init,
          signal: init.signal ?? AbortSignal.timeout(timeoutMs),
        }),
      );
    } catch (err) {
      // The address stays in the cause (logged), out of the message (which a client may see).
      throw new ParleyError('unavailable', 'a service Parley depends on is unreachable', {
        cause: new Error(`${base}${path.split('?')[0]} unreachable`, { cause: err }),
      });
    }
  };
  return {
    request,
    async getJson<T>(path: string, init?: { headers?: Record<string, string> }) {
      const res = await request(path, init?.headers ? { headers: init.headers } : {});
      if (res.status === 404) return null;
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as {
          error?: { code?: string; message?: string };
        } | null;
        const code = body?.error?.code;
        if (res.status < 500 && code && Object.hasOwn(ERROR_CODES, code)) {
          throw new ParleyError(code as ErrorCode, body?.error?.message ?? code);
        }
        throw new ParleyError('unavailable', 'a service Parley depends on failed', {
          cause: new Error(`${base}${path.split('?')[0]} answered ${res.status} ${code ?? ''}`),
        });
      }
      return (await res.json()) as T;
    },
  };
}
