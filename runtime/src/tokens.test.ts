import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenService } from './tokens';

const SECRET = 'x'.repeat(32);
const tokens = createTokenService(SECRET);

/** A token signed with the right key and issuer whose claims are whatever the test says. */
const signed = (claims: { sub?: string; username?: unknown }) => {
  let jwt = new SignJWT(claims.username === undefined ? {} : { username: claims.username })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('parley')
    .setExpirationTime(Math.floor(Date.now() / 1000) + 60);
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub);
  return jwt.sign(new TextEncoder().encode(SECRET));
};

describe('token service', () => {
  it('verifies what it signed: the user id, the username and the expiry', async () => {
    const claims = await tokens.verify(await tokens.sign({ id: 'u_1', username: 'alice' }));
    expect(claims).toMatchObject({ userId: 'u_1', username: 'alice' });
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it.each([
    ['an empty subject', { sub: '', username: 'alice' }],
    ['no subject', { username: 'alice' }],
    ['a subject that is no user id', { sub: 'u 1/..', username: 'alice' }],
    ['no username', { sub: 'u_1' }],
  ])('refuses a correctly signed token with %s as malformed', async (_, claims) => {
    await expect(tokens.verify(await signed(claims))).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'malformed token',
    });
  });

  // verify checks the signature with node:crypto (not jose): what jose refused, it still refuses.
  const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
  const hmac = (input: string, secret = SECRET, alg = 'sha256') =>
    createHmac(alg, secret).update(input).digest('base64url');
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    sub: 'u_1',
    username: 'alice',
    iss: 'parley',
    iat: now(),
    exp: now() + 60,
    ...over,
  });
  /** A compact JWS of `payload` under `header`, HMAC-signed with `secret` and `alg`. */
  const jws = (
    payload: unknown,
    header: unknown = { alg: 'HS256' },
    secret = SECRET,
    alg = 'sha256',
  ) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${hmac(input, secret, alg)}`;
  };

  it('accepts a token signed by hand the way jose signs it', async () => {
    await expect(tokens.verify(jws(claims()))).resolves.toMatchObject({
      userId: 'u_1',
      username: 'alice',
    });
  });

  it.each([
    ['another secret', jws(claims(), { alg: 'HS256' }, 'y'.repeat(32))],
    ['alg none, no signature', `${b64({ alg: 'none' })}.${b64(claims())}.`],
    ['HS512 with the same secret', jws(claims(), { alg: 'HS512' }, SECRET, 'sha512')],
    ['HS256 claimed, HS512 signature', jws(claims(), { alg: 'HS256' }, SECRET, 'sha512')],
    ['a crit header', jws(claims(), { alg: 'HS256', crit: ['exp'] })],
    ['another issuer', jws(claims({ iss: 'someone' }))],
    ['no issuer', jws(claims({ iss: undefined }))],
    ['a payload that is no object', jws(['u_1'])],
    ['a string exp', jws(claims({ exp: String(now() + 60) }))],
    ['a nbf in the future', jws(claims({ nbf: now() + 60 }))],
    ['a string iat', jws(claims({ iat: 'now' }))],
    ['two parts', jws(claims()).split('.').slice(0, 2).join('.')],
    ['four parts', `${jws(claims())}.x`],
  ])('refuses a token with %s as invalid', async (_, token) => {
    await expect(tokens.verify(token)).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'invalid token',
    });
  });

  it('refuses a payload changed after signing', async () => {
    const [h, , sig] = jws(claims()).split('.');
    const forged = `${h}.${b64(claims({ sub: 'u_2' }))}.${sig}`;
    await expect(tokens.verify(forged)).rejects.toMatchObject({ message: 'invalid token' });
  });

  it('refuses a signature spelt otherwise (padding, a flipped trailing bit), which jose took', async () => {
    const t = jws(claims());
    await expect(tokens.verify(`${t}=`)).rejects.toMatchObject({ message: 'invalid token' });
    // The last base64url character of 32 bytes carries 2 unused bits: another spelling, same bytes.
    const last = t.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    await expect(tokens.verify(t.slice(0, -1) + sibling)).rejects.toMatchObject({
      message: 'invalid token',
    });
  });

  it('says an expired token is expired (exp at or before now)', async () => {
    await expect(tokens.verify(jws(claims({ exp: now() })))).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'token expired',
    });
    await expect(tokens.verify(jws(claims({ exp: now() - 3600 })))).rejects.toMatchObject({
      message: 'token expired',
    });
  });

  it('refuses a missing token', async () => {
    await expect(tokens.verify(undefined)).rejects.toMatchObject({ message: 'missing token' });
    await expect(tokens.verify('')).rejects.toMatchObject({ message: 'missing token' });
  });
});
