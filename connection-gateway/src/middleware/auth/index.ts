/**
 * Authentication at the edge: a hono middleware for the HTTP API and a token
 * reader for the WebSocket handshake (query `token` or subprotocol
 * `bearer.<token>`).
 */
import { bearerToken, type TokenClaims, type TokenService } from '@parley/runtime';
import type { MiddlewareHandler } from 'hono';

declare module 'hono' {
  interface ContextVariableMap {
    user: TokenClaims;
  }
}

/** Verifies the bearer token; sets `c.var.user`. Throws ParleyError('unauthorized'). */
export function requireAuth(tokens: TokenService): MiddlewareHandler {
  return async (c, next) => {
    c.set('user', await tokens.verify(bearerToken(c.req.header('authorization'))));
    await next();
  };
}

export const BEARER_PROTOCOL_PREFIX = 'bearer.';
/** Offered next to `bearer.<token>`, so the server can select it instead of echoing the token. */
export const PROTOCOL_NAME = 'parley.v1';

/** The token of a WebSocket upgrade request, from `?token=` or `Sec-WebSocket-Protocol: bearer.<token>`. */
export function tokenFromUpgrade(url: URL, protocolHeader: string | undefined): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  const offered = (protocolHeader ?? '').split(',').map((p) => p.trim());
  const bearer = offered.find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  return bearer?.slice(BEARER_PROTOCOL_PREFIX.length) || undefined;
}
