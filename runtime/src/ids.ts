/**
 * Ids: a short prefix naming the kind (`u`, `r`, `m`), then a time-ordered,
 * random part — sortable by creation time, unguessable, URL-safe, and valid
 * under the protocol's IdSchema.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/**
 * @example newId('m') // 'm_01jd5x0k8s7r3x4m2q9v6w8z1c'
 */
export function newId(prefix: string): string {
  const time = Date.now().toString(32).padStart(10, '0');
  return `${prefix}_${time}${base32(randomBytes(10))}`;
}
