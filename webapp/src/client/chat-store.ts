/**
 * The web client's state and everything that changes it: session, room list,
 * timelines, sends awaiting their ack, and the connection. Framework-agnostic:
 * the state is an immutable value replaced on every change, and `subscribe`
 * tells listeners (the Solid UI mirrors it into a signal).
 */
import type { ErrorCode } from '@parley/protocol/errors';
import type { ServerFrame } from '@parley/protocol/frames';
import { LIMITS } from '@parley/protocol/limits';
import type { Message, Room, User } from '@parley/protocol/model';
import { ApiClient, type RoomSummary } from './api';
import {
  Connection,
  type ConnectionStatus,
  type SocketFactory,
  type StopReason,
  type Timers,
} from './connection';
import { errorText, sendErrorText } from './error-text';
import { type RoomView, sortRooms, upsertRoom, withMessage } from './room-list';
import {
  isExpired,
  SESSION_EXPIRED_MESSAGE,
  type Session,
  SessionStore,
  type StorageLike,
} from './session';
import * as tl from './timeline';

export interface ChatState {
  session: Session | null;
  /** For the sign-in screen: why the person was signed out. */
  authMessage: string | null;
  connection: ConnectionStatus;
  /** Set when the connection stopped for a reason reconnecting cannot fix. */
  connectionProblem: string | null;
  rooms: readonly RoomView[];
  roomsLoaded: boolean;
  roomsError: string | null;
  selectedRoomId: string | null;
  timelines: Readonly<Record<string, tl.Timeline>>;
  /** Members of the rooms looked at so far. */
  members: Readonly<Record<string, readonly User[]>>;
  /** Everyone seen so far, by id: senders' names. */
  users: Readonly<Record<string, User>>;
  loadingOlder: Readonly<Record<string, boolean>>;
  historyError: Readonly<Record<string, string>>;
  /** The message a room was opened at (a search result), while that room is open. */
  jump: Jump | null;
}

/**
 * Opening a room at a message: 'loading' while its history is paged in,
 * 'shown' once the timeline holds it; 'missing' when the room no longer has
 * it, 'too-far' when it is more than JUMP_MAX_PAGES pages back, 'error' when
 * the history could not be read (historyError says why).
 */
export type JumpStatus = 'loading' | 'shown' | 'missing' | 'too-far' | 'error';

export interface Jump {
  /** Tells one jump from the next, to the same message included. */
  id: number;
  roomId: string;
  messageId: string;
  seq: number;
  status: JumpStatus;
}

export interface ChatStoreOptions {
  storage: StorageLike;
  /** The WebSocket URL (`ws(s)://host/ws`). */
  wsUrl: string;
  apiBaseUrl?: string;
  fetch?: typeof fetch;
  WebSocket?: SocketFactory;
  timers?: Timers;
  random?: () => number;
  now?: () => number;
  newClientMsgId?: () => string;
  /** A send without its ack after this long is shown as failed. */
  sendTimeoutMs?: number;
}

export const SEND_TIMEOUT_MS = 10_000;
const HISTORY_PAGE = LIMITS.historyPageDefault;
/** Opening a room at a message pages back at most this many pages of LIMITS.historyPageMax. */
export const JUMP_MAX_PAGES = 10;
/** Messages loaded above the one jumped to, so it is seen in its context. */
const JUMP_CONTEXT = 10;
/** DM names are resolved from members this many rooms at a time. */
const MEMBER_LOOKUPS_AT_ONCE = 4;

/** Code points, as the server counts them. */
export const bodyLength = (body: string): number => [...body].length;

export function canSend(body: string): boolean {
  return body.trim().length > 0 && bodyLength(body) <= LIMITS.messageBodyMaxChars;
}

const signedOut = (authMessage: string | null): ChatState => ({
  session: null,
  authMessage,
  connection: 'offline',
  connectionProblem: null,
  rooms: [],
  roomsLoaded: false,
  roomsError: null,
  selectedRoomId: null,
  timelines: {},
  members: {},
  users: {},
  loadingOlder: {},
  historyError: {},
  jump: null,
});

export class ChatStore {
  readonly api: ApiClient;
  private state: ChatState = signedOut(null);
  private readonly listeners = new Set<(s: ChatState) => void>();
  private readonly sessions: SessionStore;
  private connection: Connection | null = null;
  private readonly sendTimers = new Map<string, unknown>();
  /** Rooms with a `sync` in flight, so a burst of gaps asks once. */
  private readonly syncing = new Set<string>();
  private readonly memberLoads = new Map<string, Promise<readonly User[] | null>>();
  /** Latest-page and older-page loads in flight, by room: a second caller waits for the first. */
  private readonly latestLoads = new Map<string, Promise<void>>();
  private readonly olderLoads = new Map<string, Promise<boolean>>();
  private jumps = 0;
  /** Rooms learned by a frame or a command while the room list was being read. */
  private readonly addedSinceListed = new Set<string>();
  private readyCount = 0;
  private readonly now: () => number;
  private readonly timers: Timers;

  constructor(private readonly opts: ChatStoreOptions) {
    this.sessions = new SessionStore(opts.storage);
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof setTimeout>),
      setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
      clearInterval: (id) => globalThis.clearInterval(id as ReturnType<typeof setInterval>),
    };
    this.api = new ApiClient({
      baseUrl: opts.apiBaseUrl ?? '',
      getToken: () => this.state.session?.token ?? null,
      onUnauthorized: () => this.expireSession(),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  getState(): ChatState {
    return this.state;
  }

  subscribe(listener: (s: ChatState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Picks up a stored session (and connects), or says why it was dropped. */
  init(): void {
    const { session, message } = this.sessions.load(this.now());
    if (session) this.begin(session);
    else this.set({ authMessage: message });
  }

  async login(username: string, password: string): Promise<void> {
    const r = await this.api.login(username, password);
    this.begin(r);
  }

  async signup(username: string, password: string, displayName?: string): Promise<void> {
    const r = await this.api.signup(username, password, displayName);
    this.begin(r);
  }

  logout(): void {
    this.end(null);
  }

  /** The server no longer accepts the token: back to the sign-in screen, with the reason. */
  expireSession(): void {
    if (!this.state.session) return;
    this.end(SESSION_EXPIRED_MESSAGE);
  }

  /** The browser says the network is gone. */
  networkLost(): void {
    this.connection?.networkLost();
  }

  /** The browser says the network is back. */
  networkBack(): void {
    this.connection?.reconnectNow();
  }

  async loadRooms(): Promise<void> {
    const me = this.state.session?.user;
    if (!me) return;
    let list: RoomSummary[];
    this.addedSinceListed.clear();
    try {
      list = await this.api.rooms();
    } catch (err) {
      if (this.state.session?.user.id === me.id) this.set({ roomsError: errorText(err) });
      return;
    }
    if (this.state.session?.user.id !== me.id) return;
    const listed = new Set(list.map((r) => r.id));
    // A room missing from the list was left, unless it arrived while the list was being read.
    let rooms = this.state.rooms.filter((r) => listed.has(r.id) || this.addedSinceListed.has(r.id));
    // Rooms without messages go last, as the server orders them.
    for (const r of list) rooms = upsertRoom(rooms, r, me, this.state.members[r.id], 0);
    this.set({ rooms: merged(this.state.rooms, rooms), roomsLoaded: true, roomsError: null });
    void this.resolveNames();
  }

  /** Opens a room (null = none, the list on a narrow screen): its latest page and its members. */
  selectRoom(roomId: string | null): void {
    const jump = this.state.jump;
    if (jump && jump.roomId !== roomId) this.set({ jump: null });
    if (this.state.selectedRoomId !== roomId) this.set({ selectedRoomId: roomId });
    if (!roomId) return;
    if (!this.state.timelines[roomId]?.loaded) void this.loadLatest(roomId);
    void this.loadMembers(roomId);
  }

  /**
   * The page before the first message held (`limit` messages). A load already
   * in flight is waited for instead. Resolves false when the page could not be
   * read (historyError says why) or there is nothing older.
   */
  loadOlder(roomId: string, limit: number = HISTORY_PAGE): Promise<boolean> {
    const inFlight = this.olderLoads.get(roomId);
    if (inFlight) return inFlight;
    const t = this.state.timelines[roomId];
    const first = t?.messages[0];
    if (!t || !first || !tl.hasOlder(t)) return Promise.resolve(false);
    this.set({ loadingOlder: { ...this.state.loadingOlder, [roomId]: true } });
    const load = (async () => {
      try {
        const page = await this.api.history(roomId, { before: first.seq, limit });
        this.applyToTimeline(roomId, (x) => tl.applyHistory(x, page, 'older'));
        return true;
      } catch (err) {
        this.setHistoryError(roomId, errorText(err));
        return false;
      } finally {
        this.olderLoads.delete(roomId);
        this.set({ loadingOlder: { ...this.state.loadingOlder, [roomId]: false } });
      }
    })();
    this.olderLoads.set(roomId, load);
    return load;
  }

  /**
   * Opens a room at a message (a search result): the room is selected and its
   * history paged back until the timeline holds the message — pages before
   * the first message held, so the timeline stays continuous and its gap
   * detection unchanged — at most JUMP_MAX_PAGES pages. `jump` follows it;
   * the message list scrolls to the message once it is 'shown'.
   */
  async openMessage(m: Pick<Message, 'id' | 'roomId' | 'seq'>): Promise<void> {
    if (!this.state.session) return;
    const id = ++this.jumps;
    const { roomId, seq } = m;
    this.selectRoom(roomId);
    const t0 = this.state.timelines[roomId];
    const status: JumpStatus = t0 && tl.hasSeq(t0, seq) ? 'shown' : 'loading';
    this.set({ jump: { id, roomId, messageId: m.id, seq, status } });
    if (status === 'shown') return;
    const current = () => {
      const j = this.state.jump;
      return j?.id === id && j.status === 'loading';
    };
    await this.latestLoads.get(roomId);
    for (let pages = 0; current(); pages++) {
      const t = this.state.timelines[roomId];
      if (!t?.loaded) {
        this.setJumpStatus(id, 'error');
        return;
      }
      const r = tl.reach(t, seq, LIMITS.historyPageMax, JUMP_CONTEXT);
      switch (r.kind) {
        case 'present':
          this.setJumpStatus(id, 'shown');
          return;
        case 'newer':
          // Sent after the page we hold: the next live message or sync brings it (setTimeline settles the jump).
          this.requestSync(roomId);
          return;
        case 'missing':
          this.setJumpStatus(id, 'missing');
          return;
        case 'older':
          if (pages >= JUMP_MAX_PAGES) {
            this.setJumpStatus(id, 'too-far');
            return;
          }
          if (!(await this.loadOlder(roomId, r.limit)) && current()) {
            this.setJumpStatus(id, 'error');
            return;
          }
      }
    }
  }

  /** Forgets the jump: the person dismissed its notice. */
  clearJump(): void {
    if (this.state.jump) this.set({ jump: null });
  }

  /** Looks up the members of these rooms that are not known yet (senders' names), a few rooms at a time. */
  async loadMembersOf(roomIds: readonly string[]): Promise<void> {
    const todo = [...new Set(roomIds)].filter((id) => !this.state.members[id]);
    const next = async () => {
      for (let id = todo.shift(); id; id = todo.shift()) await this.loadMembers(id);
    };
    await Promise.all(Array.from({ length: MEMBER_LOOKUPS_AT_ONCE }, next));
  }

  /**
   * Sends a message; it shows as pending until its ack, and as failed after
   * SEND_TIMEOUT_MS or a refusal. Returns its clientMsgId, or null for a body
   * that cannot be sent (blank or too long).
   */
  send(roomId: string, body: string): string | null {
    const me = this.state.session?.user;
    if (!me || !canSend(body)) return null;
    const clientMsgId = this.opts.newClientMsgId?.() ?? crypto.randomUUID();
    const p: tl.PendingMessage = {
      clientMsgId,
      roomId,
      senderId: me.id,
      body,
      ts: this.now(),
      status: 'pending',
    };
    const t = this.state.timelines[roomId] ?? tl.emptyTimeline(roomId);
    this.setTimeline(roomId, tl.addPending(t, p));
    this.transmit(p);
    return clientMsgId;
  }

  /** Sends a failed message again, with the same clientMsgId: the server stores it once. */
  retry(roomId: string, clientMsgId: string): void {
    const t = this.state.timelines[roomId];
    const p = t && tl.findPending(t, clientMsgId);
    if (!t || !p) return;
    this.setTimeline(roomId, tl.setPendingStatus(t, clientMsgId, 'pending'));
    this.transmit(p);
  }

  async createRoom(name: string, memberIds: string[]): Promise<Room> {
    const room = await this.api.createRoom(name, memberIds);
    this.addRoom(room);
    return room;
  }

  async openDm(userId: string): Promise<Room> {
    const room = await this.api.openDm(userId);
    this.addRoom(room);
    return room;
  }

  async invite(roomId: string, userId: string): Promise<void> {
    const room = await this.api.invite(roomId, userId);
    this.addRoom(room);
    this.memberLoads.delete(roomId);
    void this.loadMembers(roomId);
  }

  async leave(roomId: string): Promise<void> {
    await this.api.leave(roomId);
    this.removeRoom(roomId);
  }

  /** People by username prefix, without the person themself. */
  async searchUsers(q: string): Promise<User[]> {
    const me = this.state.session?.user.id;
    const users = await this.api.searchUsers(q);
    return users.filter((u) => u.id !== me);
  }

  // ---- the connection's frames ----

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'ready':
        this.onReady();
        return;
      case 'message':
        this.onMessages(f.message.roomId, [f.message]);
        return;
      case 'sync':
        this.syncing.delete(f.roomId);
        this.onMessages(f.roomId, f.messages, !f.complete);
        return;
      case 'ack': {
        this.clearSendTimer(f.clientMsgId);
        const t = this.state.timelines[f.roomId];
        if (!t) return;
        const confirmed = tl.applyAck(t, f);
        this.commit(f.roomId, confirmed);
        const m = confirmed.timeline.messages.find((x) => x.id === f.id);
        if (m) this.touchRoom(m);
        return;
      }
      case 'room':
        if (f.event === 'left') this.removeRoom(f.room.id);
        else this.addRoom(f.room);
        return;
      case 'error':
        this.onError(f.code, f.message, f.ref);
        return;
      default:
        // typing, read, unread, presence, pong: not shown yet.
        return;
    }
  }

  private onReady(): void {
    this.readyCount++;
    this.syncing.clear();
    // Sends that were waiting for the socket go now; the same clientMsgId makes a repeat harmless.
    for (const t of Object.values(this.state.timelines)) {
      for (const p of t.pending) if (p.status === 'pending') this.connection?.send(sendFrame(p));
    }
    // After a drop the room list may have changed (joined or left on another device).
    if (this.readyCount > 1) void this.loadRooms();
  }

  private onMessages(roomId: string, ms: readonly Message[], more = false): void {
    const t = this.state.timelines[roomId];
    if (t) this.commit(roomId, tl.applyMessages(t, ms));
    const last = ms.at(-1);
    if (last) this.touchRoom(last);
    if (more) this.requestSync(roomId);
    // A sender we do not know: the members changed since we looked.
    const users = this.state.users;
    if (ms.some((m) => !users[m.senderId])) {
      this.memberLoads.delete(roomId);
      void this.loadMembers(roomId);
    }
  }

  private onError(code: ErrorCode, message: string, ref?: string | number): void {
    if (typeof ref !== 'string') return;
    // A refused send names its clientMsgId; a refused sync names the room.
    for (const [roomId, t] of Object.entries(this.state.timelines)) {
      if (!tl.findPending(t, ref)) continue;
      this.clearSendTimer(ref);
      this.setTimeline(roomId, tl.setPendingStatus(t, ref, 'failed', sendErrorText(code, message)));
      return;
    }
    if (code === 'not_member') this.removeRoom(ref);
  }

  // ---- internals ----

  private begin(s: Session): void {
    this.end(null, false);
    this.sessions.save(s);
    this.set({
      ...signedOut(null),
      session: s,
      users: { [s.user.id]: s.user },
    });
    this.connection = new Connection({
      url: this.opts.wsUrl,
      getToken: () => this.validToken(),
      onFrame: (f) => this.onFrame(f),
      onStatus: (connection) => this.set({ connection }),
      syncRooms: () => this.syncRooms(),
      onStop: (reason, detail) => this.onStop(reason, detail),
      ...(this.opts.WebSocket ? { WebSocket: this.opts.WebSocket } : {}),
      ...(this.opts.timers ? { timers: this.opts.timers } : {}),
      ...(this.opts.random ? { random: this.opts.random } : {}),
      ...(this.opts.now ? { now: this.opts.now } : {}),
    });
    this.connection.start();
    void this.loadRooms();
  }

  private end(authMessage: string | null, notify = true): void {
    this.connection?.stop();
    this.connection = null;
    for (const id of this.sendTimers.values()) this.timers.clearTimeout(id);
    this.sendTimers.clear();
    this.syncing.clear();
    this.memberLoads.clear();
    this.latestLoads.clear();
    this.olderLoads.clear();
    this.readyCount = 0;
    this.sessions.clear();
    if (notify) this.set(signedOut(authMessage));
  }

  /** The token while it is still valid; an expired one ends the session instead of being tried. */
  private validToken(): string | null {
    const s = this.state.session;
    if (!s) return null;
    // The connection stops and reports 'session-expired', which ends the session.
    return isExpired(s.token, this.now()) ? null : s.token;
  }

  private onStop(reason: StopReason, detail: string): void {
    if (reason === 'session-expired') this.expireSession();
    else if (reason === 'refused') {
      this.set({
        connectionProblem: `The server closed the connection (${detail}). Reload the page.`,
      });
    }
  }

  /** Where each known room's `sync` resumes: a loaded timeline's, else the room list's seq. */
  private syncRooms(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.state.rooms) {
      const t = this.state.timelines[r.id];
      out[r.id] = t?.loaded ? tl.lastSeq(t) : r.lastSeq;
    }
    return out;
  }

  private requestSync(roomId: string): void {
    if (this.syncing.has(roomId)) return;
    const t = this.state.timelines[roomId];
    const room = this.state.rooms.find((r) => r.id === roomId);
    const from = t?.loaded ? tl.lastSeq(t) : room?.lastSeq;
    if (from === undefined) return;
    // Not open: the `sync` after the next `ready` covers this room.
    if (this.connection?.send({ type: 'sync', rooms: { [roomId]: from } }))
      this.syncing.add(roomId);
  }

  private transmit(p: tl.PendingMessage): void {
    this.clearSendTimer(p.clientMsgId);
    this.connection?.send(sendFrame(p));
    const timer = this.timers.setTimeout(() => {
      this.sendTimers.delete(p.clientMsgId);
      const t = this.state.timelines[p.roomId];
      if (t && tl.findPending(t, p.clientMsgId)?.status === 'pending') {
        this.setTimeline(p.roomId, tl.setPendingStatus(t, p.clientMsgId, 'failed'));
      }
    }, this.opts.sendTimeoutMs ?? SEND_TIMEOUT_MS);
    this.sendTimers.set(p.clientMsgId, timer);
  }

  private clearSendTimer(clientMsgId: string): void {
    const id = this.sendTimers.get(clientMsgId);
    if (id !== undefined) this.timers.clearTimeout(id);
    this.sendTimers.delete(clientMsgId);
  }

  private loadLatest(roomId: string): Promise<void> {
    const inFlight = this.latestLoads.get(roomId);
    if (inFlight) return inFlight;
    if (!this.state.timelines[roomId]) this.setTimeline(roomId, tl.emptyTimeline(roomId));
    const load = (async () => {
      try {
        const page = await this.api.history(roomId, { limit: HISTORY_PAGE });
        this.applyToTimeline(roomId, (t) => tl.applyHistory(t, page, 'older'));
        const { [roomId]: _, ...rest } = this.state.historyError;
        this.set({ historyError: rest });
      } catch (err) {
        this.setHistoryError(roomId, errorText(err));
      } finally {
        this.latestLoads.delete(roomId);
      }
    })();
    this.latestLoads.set(roomId, load);
    return load;
  }

  private loadMembers(roomId: string): Promise<readonly User[] | null> {
    const cached = this.memberLoads.get(roomId);
    if (cached) return cached;
    const load = this.api.room(roomId).then(
      ({ room, members }) => {
        if (!this.state.session) return null;
        const users = { ...this.state.users };
        for (const u of members) users[u.id] = u;
        this.set({ members: { ...this.state.members, [roomId]: members }, users });
        if (this.state.rooms.some((r) => r.id === roomId)) this.addRoom(room);
        return members;
      },
      (err: unknown) => {
        this.memberLoads.delete(roomId);
        const code = (err as { code?: string }).code;
        if (code === 'not_member' || code === 'not_found') this.removeRoom(roomId);
        return null;
      },
    );
    this.memberLoads.set(roomId, load);
    return load;
  }

  /**
   * A DM is named after the other member, and a group's preview after the
   * last sender: look those rooms' members up, a few rooms at a time.
   */
  private resolveNames(): Promise<void> {
    const { rooms, users } = this.state;
    return this.loadMembersOf(
      rooms
        .filter(
          (r) => r.kind === 'dm' || (r.lastMessage !== undefined && !users[r.lastMessage.senderId]),
        )
        .map((r) => r.id),
    );
  }

  private addRoom(room: Room): void {
    const me = this.state.session?.user;
    if (!me) return;
    const rooms = upsertRoom(this.state.rooms, room, me, this.state.members[room.id], this.now());
    this.addedSinceListed.add(room.id);
    this.set({ rooms });
    if (room.kind === 'dm' && !this.state.members[room.id]) void this.loadMembers(room.id);
  }

  private removeRoom(roomId: string): void {
    if (!this.state.rooms.some((r) => r.id === roomId) && !this.state.timelines[roomId]) return;
    const { [roomId]: _t, ...timelines } = this.state.timelines;
    const { [roomId]: _m, ...members } = this.state.members;
    this.memberLoads.delete(roomId);
    for (const p of this.state.timelines[roomId]?.pending ?? []) this.clearSendTimer(p.clientMsgId);
    this.set({
      rooms: this.state.rooms.filter((r) => r.id !== roomId),
      timelines,
      members,
      selectedRoomId: this.state.selectedRoomId === roomId ? null : this.state.selectedRoomId,
      jump: this.state.jump?.roomId === roomId ? null : this.state.jump,
    });
  }

  private touchRoom(m: Message): void {
    const rooms = withMessage(this.state.rooms, m);
    if (rooms === null)
      void this.loadRooms(); // a room we have not heard of yet
    else if (rooms !== this.state.rooms) this.set({ rooms });
  }

  private applyToTimeline(roomId: string, f: (t: tl.Timeline) => tl.Applied): void {
    const t = this.state.timelines[roomId] ?? tl.emptyTimeline(roomId);
    this.commit(roomId, f(t));
  }

  private commit(roomId: string, a: tl.Applied): void {
    this.setTimeline(roomId, a.timeline);
    if (a.gap) this.requestSync(roomId);
  }

  private setTimeline(roomId: string, t: tl.Timeline): void {
    if (this.state.timelines[roomId] === t) return;
    const timelines = { ...this.state.timelines, [roomId]: t };
    // A jump waiting for its message (a page, a live message, a sync) is settled by the one that brings it.
    const j = this.state.jump;
    if (j?.status === 'loading' && j.roomId === roomId && tl.hasSeq(t, j.seq)) {
      this.set({ timelines, jump: { ...j, status: 'shown' } });
    } else {
      this.set({ timelines });
    }
  }

  private setJumpStatus(id: number, status: JumpStatus): void {
    const j = this.state.jump;
    if (j?.id === id && j.status !== status) this.set({ jump: { ...j, status } });
  }

  private setHistoryError(roomId: string, message: string): void {
    this.set({ historyError: { ...this.state.historyError, [roomId]: message } });
  }

  private set(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }
}

const sendFrame = (p: tl.PendingMessage) =>
  ({ type: 'send', roomId: p.roomId, clientMsgId: p.clientMsgId, body: p.body }) as const;

/** The new list, keeping the old objects where nothing changed (the UI re-renders less). */
function merged(old: readonly RoomView[], next: RoomView[]): RoomView[] {
  const byId = new Map(old.map((r) => [r.id, r]));
  return sortRooms(
    next.map((r) => {
      const o = byId.get(r.id);
      return o && JSON.stringify(o) === JSON.stringify(r) ? o : r;
    }),
  );
}
