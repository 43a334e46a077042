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
});
