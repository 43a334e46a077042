/**
 * Authentication at the edge: a token must be valid (signature, expiry, a well-formed user id)
 * AND name a user who exists (KnownUsers), on every authenticated HTTP route and at the
 * WebSocket handshake. Plus a token reader for the handshake (query `token` or subprotocol
 * `bearer.<token>`).
 *
 * The HTTP functions behind the gateway check the token again with runtime's `requireAuth`
 * (signature and expiry), not existence: they are reachable only through the gateway, which has
 * checked it, and a token of a user who does not exist can reach no data in them anyway (no
 * rooms, no messages are keyed by that id). `users` checks existence on `/me` itself.
 */
import {
  bearerToken,
  ParleyError,
  type ServiceClient,
  type TokenClaims,
  type TokenService,
} from '@parley/runtime';
import type { MiddlewareHandler } from 'hono';
import { KnownUsers } from './known-users';

// The HTTP functions' middleware (signature and expiry only); the gateway's is `authenticate`.
export { requireAuth } from '@parley/runtime';
export { KnownUsers } from './known-users';

export const BEARER_PROTOCOL_PREFIX = 'bearer.';
/** Offered next to `bearer.<token>`, so the server can select it instead of echoing the token. */
export const PROTOCOL_NAME = 'parley.v1';

/** What the gateway's authentication needs (a subset of GatewayDeps). */
export interface AuthDeps {
  tokens: TokenService;
  users: ServiceClient;
}

// One cache per users client, so the HTTP API and the WebSocket handshake share it.
const knownUsersByClient = new WeakMap<ServiceClient, KnownUsers>();

/** The KnownUsers of this gateway (one per users client). */
export function knownUsersOf(deps: AuthDeps): KnownUsers {
  let known = knownUsersByClient.get(deps.users);
  if (!known) {
    known = new KnownUsers(deps.users);
    knownUsersByClient.set(deps.users, known);
  }
  return known;
}

/**
 * The claims of a token that is valid and names an existing user.
 * Throws ParleyError: `unauthorized` (bad token, unknown user) or `unavailable` (cannot tell).
 * @example const claims = await verifyUser(deps, tokenFromUpgrade(url, protocols));
 */
export async function verifyUser(
  deps: AuthDeps,
  token: string | undefined | null,
): Promise<TokenClaims> {
  const claims = await deps.tokens.verify(token);
  if (!(await knownUsersOf(deps).exists(claims.userId))) {
    throw new ParleyError('unauthorized', 'unknown user');
  }
  return claims;
}

/**
 * The gateway's HTTP authentication: verifyUser on the bearer token; sets `c.var.user`.
 * @example api.get('/rooms', authenticate(deps), (c) => …c.var.user.userId…);
 */
export function authenticate(deps: AuthDeps): MiddlewareHandler {
  return async function authenticateUser(c, next) {
    c.set('user', await verifyUser(deps, bearerToken(c.req.header('authorization'))));
    await next();
  };
}

/** The token of a WebSocket upgrade request, from `?token=` or `Sec-WebSocket-Protocol: bearer.<token>`. */
export function tokenFromUpgrade(url: URL, protocolHeader: string | undefined): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  const offered = (protocolHeader ?? '').split(',').map((p) => p.trim());
  const bearer = offered.find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  return bearer?.slice(BEARER_PROTOCOL_PREFIX.length) || undefined;
}
