/**
 * Access tokens: HS256 JWTs carrying the user id (`sub`) and username. The
 * gateway checks them at the WebSocket handshake and on every HTTP call; the
 * HTTP functions check them again, so no function trusts a caller blindly.
 */
import { IdSchema } from '@parley/protocol';
import { errors, jwtVerify, SignJWT } from 'jose';
import { ParleyError } from './errors';

export interface TokenClaims {
  userId: string;
  username: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface TokenService {
  sign(user: { id: string; username: string }): Promise<string>;
  /** Throws ParleyError('unauthorized') for a missing, malformed, forged or expired token. */
  verify(token: string | undefined | null): Promise<TokenClaims>;
}

const ISSUER = 'parley';

/**
 * @param secret at least 32 characters; there is no default.
 * @param ttlSeconds token lifetime (default 24 h).
 * @example const tokens = createTokenService(cfg.JWT_SECRET); const t = await tokens.sign(user);
 */
export function createTokenService(secret: string, ttlSeconds = 24 * 3600): TokenService {
  if (secret.length < 32) throw new Error('JWT secret must be at least 32 characters');
  const key = new TextEncoder().encode(secret);
  return {
    async sign(user) {
      return new SignJWT({ username: user.username })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user.id)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(key);
    },
    async verify(token) {
      if (!token) throw new ParleyError('unauthorized', 'missing token');
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        // A subject that is not a well-formed user id (empty, say) names no user: never a session.
        if (
          !IdSchema.safeParse(payload.sub).success ||
          typeof payload.username !== 'string' ||
          !payload.exp
        ) {
          throw new ParleyError('unauthorized', 'malformed token');
        }
        return { userId: payload.sub as string, username: payload.username, exp: payload.exp };
      } catch (err) {
        if (err instanceof ParleyError) throw err;
        const expired = err instanceof errors.JWTExpired;
        throw new ParleyError('unauthorized', expired ? 'token expired' : 'invalid token', {
          cause: err,
        });
      }
    },
  };
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or not a bearer token. */
export function bearerToken(header: string | undefined | null): string | undefined {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}
