/**
 * HS256 tokens signed with node:crypto, for both servers' clients: tens of thousands of them at a
 * bench's start cost milliseconds this way (jose's async WebCrypto would cost seconds).
 */
import { createHmac } from 'node:crypto';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

/** A compact JWS of `claims`, HS256 with `secret`. */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createHmac('sha256', secret).update(`${HEADER}.${body}`).digest('base64url');
  return `${HEADER}.${body}.${sig}`;
}

/** What Parley's token service signs (runtime/src/tokens.ts): issuer, subject, username, expiry. */
export function parleyToken(userId: string, secret: string, ttlSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256(
    { username: userId, sub: userId, iss: 'parley', iat: now, exp: now + ttlSeconds },
    secret,
  );
}

/** A Centrifugo connection token: the user (`sub`) and the expiry. */
export function centrifugoToken(userId: string, secret: string, ttlSeconds = 3600): string {
  return signHs256({ sub: userId, exp: Math.floor(Date.now() / 1000) + ttlSeconds }, secret);
}
