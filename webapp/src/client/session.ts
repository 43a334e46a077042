/**
 * The signed-in session ({token, user}) kept in localStorage so a reload
 * stays signed in. The token's own `exp` says when it stops working; an
 * expired or unreadable session is dropped and the person is told why.
 */
import type { User } from '@parley/protocol/model';

export const SESSION_KEY = 'parley.session';
export const SESSION_EXPIRED_MESSAGE = 'Your session has expired. Please log in again.';

export interface Session {
  token: string;
  user: User;
}

/** The part of `Storage` this module uses (tests pass a Map-backed one). */
export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * When the JWT expires, in ms since the epoch; null when it is not a JWT
 * with a numeric `exp`. The signature is not checked: the server does that.
 */
export function tokenExpiry(token: string): number | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const b64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='))) as {
      exp?: unknown;
    };
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** Expired, or unreadable (which the server would refuse all the same). */
export function isExpired(token: string, now = Date.now()): boolean {
  const exp = tokenExpiry(token);
  return exp === null || exp <= now;
}

export interface LoadedSession {
  session: Session | null;
  /** Why there is none, for the person: set when a stored session had to be dropped. */
  message: string | null;
}

export class SessionStore {
  constructor(private readonly storage: StorageLike) {}

  load(now = Date.now()): LoadedSession {
    const raw = this.storage.getItem(SESSION_KEY);
    if (raw === null) return { session: null, message: null };
    const s = parse(raw);
    if (!s || isExpired(s.token, now)) {
      this.clear();
      return { session: null, message: SESSION_EXPIRED_MESSAGE };
    }
    return { session: s, message: null };
  }

  save(s: Session): void {
    this.storage.setItem(SESSION_KEY, JSON.stringify(s));
  }

  clear(): void {
    this.storage.removeItem(SESSION_KEY);
  }
}

function parse(raw: string): Session | null {
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || typeof s.user?.id !== 'string') return null;
    return { token: s.token, user: s.user };
  } catch {
    return null;
  }
}
