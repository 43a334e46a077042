/**
 * Authentication at the edge: the HTTP API's middleware (runtime's) and a token
 * reader for the WebSocket handshake (query `token` or subprotocol
 * `bearer.<token>`).
 */
// The HTTP middleware is the one every HTTP function uses too.
export { requireAuth } from '@parley/runtime';

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
