import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT_PARAMS, decoyHash, hashPassword, verifyPassword } from './password';

describe('password hashing', () => {
  it('writes a self-describing scrypt hash with the default cost, 16-byte salt, 64-byte key', async () => {
    const stored = await hashPassword('correct horse battery staple');
    const [scheme, n, r, p, salt, key] = stored.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', String(2 ** 15), '8', '1']);
    expect(Buffer.from(salt as string, 'base64')).toHaveLength(16);
    expect(Buffer.from(key as string, 'base64')).toHaveLength(64);
    expect(stored).not.toContain('correct horse');
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('s3cret-passw0rd');
    expect(await verifyPassword('s3cret-passw0rd', stored)).toBe(true);
    expect(await verifyPassword('s3cret-passw0rD', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts: one password hashes differently each time, and both verify', async () => {
    const [a, b] = await Promise.all([
      hashPassword('same-password'),
      hashPassword('same-password'),
    ]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same-password', a)).toBe(true);
    expect(await verifyPassword('same-password', b)).toBe(true);
  });

  it('verifies a hash with the parameters recorded in it, so the cost can change later', async () => {
    const cheap = { ...DEFAULT_SCRYPT_PARAMS, N: 2 ** 10, r: 4, keyBytes: 32 };
    const stored = await hashPassword('older-password', cheap);
    expect(stored.startsWith('scrypt$1024$4$1$')).toBe(true);
    expect(await verifyPassword('older-password', stored)).toBe(true);
    expect(await verifyPassword('other-password', stored)).toBe(false);
  });

  it('a tampered hash no longer verifies', async () => {
    const stored = await hashPassword('tamper-proof');
    const parts = stored.split('$');
    const key = Buffer.from(parts[5] as string, 'base64');
    key[0] = (key[0] as number) ^ 1;
    parts[5] = key.toString('base64');
    expect(await verifyPassword('tamper-proof', parts.join('$'))).toBe(false);
  });

  it('an unreadable stored hash is a bug (throws), not a wrong password', async () => {
    for (const bad of [
      '',
      'plain',
      'bcrypt$x',
      'scrypt$1000$8$1$c2FsdA==$a2V5',
      'scrypt$1048576000$8$1$c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5',
    ]) {
      await expect(verifyPassword('whatever1', bad)).rejects.toThrow('unreadable password hash');
    }
  });

  it('a password typed composed or decomposed (NFKC) is the same password', async () => {
    const stored = await hashPassword('caf\u00e9-password');
    expect(await verifyPassword('cafe\u0301-password', stored)).toBe(true);
  });

  it('the decoy hash is well-formed and matches no password', async () => {
    const decoy = decoyHash();
    expect(decoy.split('$').slice(0, 4)).toEqual(['scrypt', String(2 ** 15), '8', '1']);
    expect(await verifyPassword('', decoy)).toBe(false);
    expect(await verifyPassword('any-password', decoy)).toBe(false);
  });

  it('hashes off the event loop: a queued callback runs while a password hashes', async () => {
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    // With scryptSync the await would resume (a microtask) before the immediate could run.
    await hashPassword('non-blocking');
    expect(turned).toBe(true);
  });
});
