/**
 * Bearer authentication as a hono middleware, for the gateway's HTTP API and
 * for every HTTP function (which checks the token again, so no function
 * trusts its caller blindly).
 */
import type { MiddlewareHandler } from 'hono';
import { bearerToken, type TokenClaims, type TokenService } from './tokens';

declare module 'hono' {
  interface ContextVariableMap {
    user: TokenClaims;
  }
}

/**
 * Verifies the bearer token; sets `c.var.user`. Throws ParleyError('unauthorized').
 * @example app.get('/api/v1/me', requireAuth(tokens), (c) => c.json({ id: c.var.user.userId }));
 */
export function requireAuth(tokens: TokenService): MiddlewareHandler {
  return async (c, next) => {
    c.set('user', await tokens.verify(bearerToken(c.req.header('authorization'))));
    await next();
  };
}

/**
 * Set by the gateway on a login it forwards when the client's address has logged in to that
 * account before (its login throttle knows): the users function hashes such a login first, so a
 * flood from strangers cannot keep the account's owner out. Cluster-internal, like `/internal`
 * routes: the gateway never forwards a client's own headers but `content-type` and
 * `authorization`.
 */
export const KNOWN_ADDRESS_HEADER = 'x-parley-known-address';
