/**
 * Password hashing with scrypt (memory-hard, in node's crypto, no native
 * add-on). A hash is self-describing — `scrypt$N$r$p$salt$hash`, salt and
 * hash in base64 — so the cost can be raised later without breaking old
 * hashes: each one is verified with the parameters it was made with.
 *
 * scrypt always runs on libuv's thread pool (never `scryptSync`), so hashing
 * does not stall the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
  saltBytes: number;
  keyBytes: number;
}

/** N=2^15, r=8 uses 32 MiB and roughly 50-100 ms per hash on one core. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = {
  N: 2 ** 15,
  r: 8,
  p: 1,
  saltBytes: 16,
  keyBytes: 64,
};

// Bounds on what a stored hash may ask for, so a corrupt row cannot make us allocate gigabytes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const { N, r, p, keyBytes } = params;
  // scrypt needs 128·N·r bytes; node's default maxmem (32 MiB) is exactly too small for N=2^15, r=8.
  const maxmem = 256 * N * r;
  return new Promise((resolve, reject) => {
    // NFKC: the same password typed on another keyboard or OS (composed vs decomposed) still matches.
    scrypt(password.normalize('NFKC'), salt, keyBytes, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function format(params: ScryptParams, salt: Buffer, key: Buffer): string {
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } {
  const parts = stored.split('$');
  const [scheme, n, r, p, salt64, key64] = parts;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  const valid =
    parts.length === 6 &&
    scheme === 'scrypt' &&
    Number.isInteger(N) &&
    N >= 2 &&
    N <= MAX_N &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(R) &&
    R >= 1 &&
    R <= MAX_R &&
    Number.isInteger(P) &&
    P >= 1 &&
    P <= MAX_P;
  const salt = Buffer.from(salt64 ?? '', 'base64');
  const key = Buffer.from(key64 ?? '', 'base64');
  if (!valid || salt.length === 0 || key.length < 16) {
    // A stored hash we cannot read is corrupt data, i.e. a bug: never a quiet "wrong password".
    throw new Error('unreadable password hash');
  }
  return { params: { N, r: R, p: P, saltBytes: salt.length, keyBytes: key.length }, salt, key };
}

/**
 * @example const stored = await hashPassword('correct horse battery staple');
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(params.saltBytes);
  return format(params, salt, await derive(password, salt, params));
}

/**
 * True when `password` matches `stored`; compares in constant time.
 * Throws (a bug, not a wrong password) when `stored` is not a hash this module wrote.
 * @example if (!(await verifyPassword(body.password, user.passwordHash))) throw unauthorized;
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { params, salt, key } = parse(stored);
  const candidate = await derive(password, salt, params);
  return timingSafeEqual(candidate, key);
}

/**
 * A well-formed hash that no password matches: verifying against it costs what
 * a real verification costs, so "no such user" takes as long as "wrong password".
 */
export function decoyHash(params: ScryptParams = DEFAULT_SCRYPT_PARAMS): string {
  return format(params, randomBytes(params.saltBytes), randomBytes(params.keyBytes));
}
