import { describe, expect, it } from 'vitest';
import {
  isExpired,
  SESSION_EXPIRED_MESSAGE,
  SESSION_KEY,
  SessionStore,
  tokenExpiry,
} from './session';
import { fakeToken, memoryStorage } from './testing';

const user = { id: 'u_me', username: 'me', displayName: 'Me' };
const NOW = 1_700_000_000_000;

describe('session', () => {
  it('reads the expiry from the JWT payload (base64url)', () => {
    expect(tokenExpiry(fakeToken(NOW + 60_000))).toBe(NOW + 60_000);
    // '-' and '_' in the payload are base64url, not base64.
    const payload = btoa(JSON.stringify({ exp: 2_000_000_000, n: '>>>???' }))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    expect(tokenExpiry(`h.${payload}.s`)).toBe(2_000_000_000_000);
  });

  it('treats a token that is not a JWT as expired', () => {
    expect(tokenExpiry('nonsense')).toBeNull();
    expect(isExpired('a.!!!.c', NOW)).toBe(true);
  });

  it('keeps a session across reloads while its token is valid', () => {
    const storage = memoryStorage();
    const s = { token: fakeToken(NOW + 60_000), user };
    new SessionStore(storage).save(s);
    expect(new SessionStore(storage).load(NOW)).toEqual({ session: s, message: null });
  });

  it('drops an expired session and says so', () => {
    const storage = memoryStorage();
    new SessionStore(storage).save({ token: fakeToken(NOW - 1), user });
    expect(new SessionStore(storage).load(NOW)).toEqual({
      session: null,
      message: SESSION_EXPIRED_MESSAGE,
    });
    expect(storage.data.has(SESSION_KEY)).toBe(false);
  });

  it('drops a stored session it cannot read', () => {
    const storage = memoryStorage();
    storage.setItem(SESSION_KEY, '{"token": 5');
    expect(new SessionStore(storage).load(NOW).session).toBeNull();
    expect(storage.data.has(SESSION_KEY)).toBe(false);
  });

  it('has nothing to say when nobody was signed in', () => {
    expect(new SessionStore(memoryStorage()).load(NOW)).toEqual({ session: null, message: null });
  });
});
