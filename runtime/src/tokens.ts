/**
 * Access tokens: HS256 JWTs carrying the user id (`sub`) and username. The
 * gateway checks them at the WebSocket handshake and on every HTTP call; the
 * HTTP functions check them again, so no function trusts a caller blindly.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { IdSchema } from '@parley/protocol';
import { SignJWT } from 'jose';
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
      const payload = verifyHs256(token, key);
      // A subject that is not a well-formed user id (empty, say) names no user: never a session.
      if (
        !IdSchema.safeParse(payload.sub).success ||
        typeof payload.username !== 'string' ||
        !payload.exp
      ) {
        throw new ParleyError('unauthorized', 'malformed token');
      }
      return { userId: payload.sub as string, username: payload.username, exp: payload.exp };
    },
  };
}

const invalid = () => new ParleyError('unauthorized', 'invalid token');
/** The compact JWS parts: base64url (RFC 7515 §2, no padding). */
const B64URL = /^[A-Za-z0-9_-]*$/;

/** A base64url part as JSON; undefined when it is not canonical base64url or not a JSON object. */
function jsonPart(part: string): Record<string, unknown> | undefined {
  if (!B64URL.test(part)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The claims of a compact HS256 JWT signed with `key`, with what jose's `jwtVerify` checked for
 * this service (issuer, algorithms: ['HS256']) checked here with node:crypto: on the gateway's
 * handshake path jose's WebCrypto import and verify cost ~10× an HMAC (perf/bench/peer).
 * Refused (`invalid token`): another algorithm (`none` included), a `crit` header (no extension
 * is understood), a signature that is not the HMAC-SHA256 of the first two parts,
 * a non-object payload, another issuer, a non-numeric `exp`/`nbf`/`iat`, a `nbf` in the future.
 * Expired (`exp` ≤ now, in seconds, no leeway, as jose): `token expired`.
 */
function verifyHs256(token: string, key: Uint8Array): Record<string, unknown> & { exp?: number } {
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid();
  const [h, p, sig] = parts as [string, string, string];
  const header = jsonPart(h);
  if (header?.alg !== 'HS256' || 'crit' in header) throw invalid();
  if (!B64URL.test(sig)) throw invalid();
  const given = Buffer.from(sig, 'base64url');
  const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
  // Canonical only (stricter than jose): a signature that decodes to the right bytes but is spelt
  // otherwise (a padding `=`, other unused trailing bits) is refused.
  if (
    given.length !== expected.length ||
    !timingSafeEqual(given, expected) ||
    given.toString('base64url') !== sig
  )
    throw invalid();
  const payload = jsonPart(p);
  if (!payload || payload.iss !== ISSUER) throw invalid();
  const now = Math.floor(Date.now() / 1000);
  for (const claim of ['exp', 'nbf', 'iat'] as const)
    if (claim in payload && typeof payload[claim] !== 'number') throw invalid();
  if (typeof payload.nbf === 'number' && payload.nbf > now) throw invalid();
  if (typeof payload.exp === 'number' && payload.exp <= now)
    throw new ParleyError('unauthorized', 'token expired');
  return payload as Record<string, unknown> & { exp?: number };
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or not a bearer token. */
export function bearerToken(header: string | undefined | null): string | undefined {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}
