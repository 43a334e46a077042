/**
 * The HTTP API v1 as the web client uses it (docs/protocol.md). Every
 * failure is an ApiError carrying the protocol's error code, so callers
 * branch on `code`, never on message text.
 */
import type { ErrorCode } from '@parley/protocol/errors';
import type { SearchHit, SearchResponse } from '@parley/protocol/http';
import type { Message, Notification, Room, User } from '@parley/protocol/model';

/** `GET /rooms` adds these to each room. */
export interface RoomSummary extends Room {
  unread: number;
  lastMessage?: Message;
}

/**
 * A member as `GET /rooms/:id` lists them: `online` for every member, `readSeq` (how far they
 * have read) only in rooms of up to LIMITS.liveSignalsRoomMaxMembers members.
 */
export interface Member extends User {
  online?: boolean;
  readSeq?: number;
}

/** `GET /notifications`: the inbox, newest first. */
export interface NotificationsPage {
  notifications: Notification[];
  unreadTotal: number;
  /** Present when there may be more: pass it back as `cursor`. */
  nextCursor?: string;
}

/** `POST /notifications/read`: these entries (by message id), or all of them. */
export type NotificationsReadBody = { messageIds: string[] } | { all: true };

export interface AuthResult {
  user: User;
  token: string;
}

export interface HistoryPageResult {
  messages: Message[];
  hasMore: boolean;
}

/** Either `before` or `after` (neither = the latest page). */
export type HistoryQuery = { before?: number; after?: number; limit?: number };

export type { SearchHit };
export type SearchSort = 'recent' | 'relevance';

/** `GET /search`: plain text in every room of the caller, or in one (`roomId`). */
export interface SearchParams {
  q: string;
  roomId?: string;
  sort?: SearchSort;
  limit?: number;
  /** The previous page's `nextCursor` (same q, roomId and sort). */
  cursor?: string;
}

/** A failed call: HTTP status (0 = no answer at all) and the protocol's error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
  503: 'unavailable',
  504: 'timeout',
};

export interface ApiClientOptions {
  /** '' = the page's own origin (the gateway serves the client). */
  baseUrl?: string;
  getToken: () => string | null;
  /** A 401 on an authenticated call: the session is no longer valid. */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl ?? '';
    // Bound, or the browser refuses `fetch` called as a method of another object.
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  signup(username: string, password: string, displayName?: string): Promise<AuthResult> {
    const body = displayName ? { username, password, displayName } : { username, password };
    return this.call('POST', '/auth/signup', body, false);
  }

  login(username: string, password: string): Promise<AuthResult> {
    return this.call('POST', '/auth/login', { username, password }, false);
  }

  async me(): Promise<User> {
    return (await this.call<{ user: User }>('GET', '/me')).user;
  }

  async searchUsers(q: string, limit = 20): Promise<User[]> {
    const query = new URLSearchParams({ q, limit: String(limit) });
    return (await this.call<{ users: User[] }>('GET', `/users?${query}`)).users;
  }

  async rooms(): Promise<RoomSummary[]> {
    return (await this.call<{ rooms: RoomSummary[] }>('GET', '/rooms')).rooms;
  }

  room(id: string): Promise<{ room: Room; members: Member[] }> {
    return this.call('GET', `/rooms/${encodeURIComponent(id)}`);
  }

  /** Marks the room read up to `seq` (for when no socket is open; the `read` frame does the same). */
  markRead(roomId: string, seq: number): Promise<{ roomId: string; seq: number; unread: number }> {
    return this.call('POST', `/rooms/${encodeURIComponent(roomId)}/read`, { seq });
  }

  notifications(q: { limit?: number; cursor?: string } = {}): Promise<NotificationsPage> {
    const query = new URLSearchParams();
    if (q.limit !== undefined) query.set('limit', String(q.limit));
    if (q.cursor !== undefined) query.set('cursor', q.cursor);
    const qs = query.size > 0 ? `?${query}` : '';
    return this.call('GET', `/notifications${qs}`);
  }

  markNotificationsRead(body: NotificationsReadBody): Promise<{ unreadTotal: number }> {
    return this.call('POST', '/notifications/read', body);
  }

  async createRoom(name: string, memberIds: string[] = []): Promise<Room> {
    return (await this.call<{ room: Room }>('POST', '/rooms', { name, memberIds })).room;
  }

  async openDm(userId: string): Promise<Room> {
    return (await this.call<{ room: Room }>('POST', '/dms', { userId })).room;
  }

  async invite(roomId: string, userId: string): Promise<Room> {
    const path = `/rooms/${encodeURIComponent(roomId)}/members`;
    return (await this.call<{ room: Room }>('POST', path, { userId })).room;
  }

  async leave(roomId: string): Promise<void> {
    await this.call('DELETE', `/rooms/${encodeURIComponent(roomId)}/members/me`);
  }

  history(roomId: string, q: HistoryQuery = {}): Promise<HistoryPageResult> {
    const query = new URLSearchParams();
    if (q.before !== undefined) query.set('before', String(q.before));
    else if (q.after !== undefined) query.set('after', String(q.after));
    if (q.limit !== undefined) query.set('limit', String(q.limit));
    const qs = query.size > 0 ? `?${query}` : '';
    return this.call('GET', `/rooms/${encodeURIComponent(roomId)}/messages${qs}`);
  }

  search(p: SearchParams): Promise<SearchResponse> {
    const query = new URLSearchParams({ q: p.q });
    if (p.roomId !== undefined) query.set('roomId', p.roomId);
    if (p.sort !== undefined) query.set('sort', p.sort);
    if (p.limit !== undefined) query.set('limit', String(p.limit));
    if (p.cursor !== undefined) query.set('cursor', p.cursor);
    return this.call('GET', `/search?${query}`);
  }

  private async call<T>(method: string, path: string, body?: unknown, authed = true): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (authed) {
      const token = this.opts.getToken();
      if (!token) {
        this.opts.onUnauthorized?.();
        throw new ApiError(401, 'unauthorized', 'Not logged in.');
      }
      headers.authorization = `Bearer ${token}`;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'unavailable', 'Cannot reach Parley. Check your connection.');
    }
    if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
    const err = await errorOf(res);
    if (authed && err.status === 401) this.opts.onUnauthorized?.();
    throw err;
  }
}

/** The protocol's error body, or a code guessed from the status when a proxy answered instead. */
async function errorOf(res: Response): Promise<ApiError> {
  try {
    const j = (await res.json()) as { error?: { code?: ErrorCode; message?: string } };
    if (j.error?.code) {
      return new ApiError(res.status, j.error.code, j.error.message ?? j.error.code);
    }
  } catch {
    // Not JSON: fall through to the status.
  }
  const code = CODE_BY_STATUS[res.status] ?? (res.status >= 500 ? 'unavailable' : 'bad_request');
  return new ApiError(res.status, code, res.statusText || `HTTP ${res.status}`);
}
