/**
 * The web client's state and everything that changes it: session, room list,
 * timelines, sends awaiting their ack, and the connection. Framework-agnostic:
 * the state is an immutable value replaced on every change, and `subscribe`
 * tells listeners (the Solid UI mirrors it into a signal).
 */
import type { ErrorCode } from '@parley/protocol/errors';
import type { ServerFrame } from '@parley/protocol/frames';
import { LIMITS } from '@parley/protocol/limits';
import type { Message, Notification, Room, User } from '@parley/protocol/model';
import { ApiClient, type Member, type RoomSummary } from './api';
import {
  Connection,
  type ConnectionStatus,
  type SocketFactory,
  type StopReason,
  type Timers,
} from './connection';
import { errorText, sendErrorText } from './error-text';
import { emptyInbox, type InboxState, markRead, mergeNotifications } from './inbox';
import { type RoomView, sortRooms, upsertRoom, withMessage, withUnread } from './room-list';
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
  /**
   * The window is visible and focused (the UI reports it, `setAttention`): only then is the open
   * room being read.
   */
  attention: boolean;
  /** Who is typing, by room: user ids in the order they started; each for LIMITS.typingShowMs. */
  typing: Readonly<Record<string, readonly string[]>>;
  /** Online or not, by user id: members' lists (`GET /rooms/:id`) and `presence` frames. */
  presence: Readonly<Record<string, boolean>>;
  /** How far each member has read, by room, then user (rooms of up to 100 members, and DMs). */
  readSeqs: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** My mentions inbox. */
  inbox: InboxState;
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
/** A `read` waits this long after what made it due, so a burst of messages costs one frame. */
export const READ_DEBOUNCE_MS = 500;
/**
 * While the person types, a `typing` frame goes at most this often per room: the server relays
 * one per LIMITS.typingThrottleMs and others show it for LIMITS.typingShowMs, so it stays on.
 */
export const TYPING_SEND_INTERVAL_MS = 3_000;
const INBOX_PAGE = LIMITS.notificationsPageDefault;
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
  attention: true,
  typing: {},
  presence: {},
  readSeqs: {},
  inbox: emptyInbox,
});

/** The room being read: the open one, while the window is visible and focused. */
export function readingRoomOf(s: ChatState): string | null {
  return s.attention ? s.selectedRoomId : null;
}

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
  /**
   * My read marker per room as far as this client knows (never above the server's: it errs
   * towards a `read` too many, which changes nothing, rather than one too few).
   */
  private readonly marks = new Map<string, number>();
  /** The `read` waiting for READ_DEBOUNCE_MS, and its timer. */
  private pendingRead: { roomId: string; seq: number } | null = null;
  private readTimer: unknown = null;
  /** When a `typing` frame last went out, by room. */
  private readonly typingSentAt = new Map<string, number>();
  /** The timers that end the typing indicators shown, by `roomId userId`. */
  private readonly typingTimers = new Map<string, unknown>();
  /** Counts first-page loads of the inbox: the newest one wins. */
  private inboxLoads = 0;
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
    for (const r of list) {
      rooms = upsertRoom(rooms, r, me, this.state.members[r.id], 0);
      this.raiseMark(r.id, r.lastSeq - r.unread);
    }
    this.set({ rooms: merged(this.state.rooms, rooms), roomsLoaded: true, roomsError: null });
    this.considerRead();
    void this.resolveNames();
  }

  /** Opens a room (null = none, the list on a narrow screen): its latest page and its members. */
  selectRoom(roomId: string | null): void {
    // The room being left was seen: its `read` goes now rather than not at all.
    if (this.pendingRead && this.pendingRead.roomId !== roomId) this.flushRead();
    const jump = this.state.jump;
    if (jump && jump.roomId !== roomId) this.set({ jump: null });
    if (this.state.selectedRoomId !== roomId) this.set({ selectedRoomId: roomId });
    if (!roomId) return;
    if (!this.state.timelines[roomId]?.loaded) void this.loadLatest(roomId);
    void this.loadMembers(roomId);
    this.considerRead();
  }

  /**
   * Whether the window is visible and focused (the UI reports it): only then is the open room
   * being read. Losing it sends the `read` that was waiting (what was shown was seen).
   */
  setAttention(attention: boolean): void {
    if (this.state.attention === attention) return;
    if (!attention) this.flushRead();
    this.set({ attention });
    if (attention) this.considerRead();
  }

  /**
   * The person typed in a room's composer, which now holds `text`: a `typing` frame, at most
   * every TYPING_SEND_INTERVAL_MS per room, never for a blank composer.
   */
  typing(roomId: string, text: string): void {
    if (!this.state.session || text.trim() === '') return;
    const now = this.now();
    const last = this.typingSentAt.get(roomId);
    if (last !== undefined && now - last < TYPING_SEND_INTERVAL_MS) return;
    if (this.connection?.send({ type: 'typing', roomId })) this.typingSentAt.set(roomId, now);
  }

  /**
   * Reads the inbox's first page; the unread total (the badge) comes with it. Entries that
   * arrived as frames while it was on its way are kept; older pages read before are dropped
   * ("Load more" reads them again).
   */
  async loadInbox(): Promise<void> {
    const me = this.state.session?.user.id;
    if (!me) return;
    const id = ++this.inboxLoads;
    const held = new Set(this.state.inbox.items.map((n) => n.messageId));
    this.setInbox({ loading: true });
    try {
      const page = await this.api.notifications({ limit: INBOX_PAGE });
      if (this.state.session?.user.id !== me || id !== this.inboxLoads) return;
      const arrived = this.state.inbox.items.filter((n) => !held.has(n.messageId));
      this.setInbox({
        items: mergeNotifications(arrived, page.notifications),
        unreadTotal: page.unreadTotal,
        nextCursor: page.nextCursor ?? null,
        loaded: true,
        loading: false,
        loadingMore: false,
        error: null,
      });
    } catch (err) {
      if (this.state.session?.user.id !== me || id !== this.inboxLoads) return;
      this.setInbox({ loading: false, error: errorText(err) });
    }
  }

  /** The inbox's next (older) page: "Load more". */
  async loadMoreInbox(): Promise<void> {
    const me = this.state.session?.user.id;
    const { nextCursor, loadingMore } = this.state.inbox;
    if (!me || !nextCursor || loadingMore) return;
    const id = this.inboxLoads;
    this.setInbox({ loadingMore: true });
    try {
      const page = await this.api.notifications({ limit: INBOX_PAGE, cursor: nextCursor });
      // A first-page load since then replaced the list and its cursor.
      if (this.state.session?.user.id !== me || id !== this.inboxLoads) return;
      this.setInbox({
        items: mergeNotifications(this.state.inbox.items, page.notifications),
        unreadTotal: page.unreadTotal,
        nextCursor: page.nextCursor ?? null,
        loadingMore: false,
        error: null,
      });
    } catch (err) {
      if (this.state.session?.user.id !== me || id !== this.inboxLoads) return;
      this.setInbox({ loadingMore: false, error: errorText(err) });
    }
  }

  /** "Mark all read": at once here; the server's answer has the count. */
  async markAllMentionsRead(): Promise<void> {
    const me = this.state.session?.user.id;
    if (!me) return;
    this.setInbox({ items: markRead(this.state.inbox.items, () => true).items, unreadTotal: 0 });
    try {
      const r = await this.api.markNotificationsRead({ all: true });
      if (this.state.session?.user.id === me) this.setInbox({ unreadTotal: r.unreadTotal });
    } catch (err) {
      if (this.state.session?.user.id !== me) return;
      // What the server holds is unknown now: read it again, then say what failed.
      await this.loadInbox();
      this.setInbox({ error: errorText(err) });
    }
  }

  /** Opens the room at the message an inbox entry is about (as a search result), and marks it read. */
  openMention(n: Notification): Promise<void> {
    const me = this.state.session?.user.id;
    if (!me) return Promise.resolve();
    const opened = this.openMessage({ id: n.messageId, roomId: n.roomId, seq: n.seq });
    const { items, marked } = markRead(this.state.inbox.items, (x) => x.messageId === n.messageId);
    if (marked > 0 || !n.read) {
      this.setInbox({ items, unreadTotal: Math.max(0, this.state.inbox.unreadTotal - marked) });
      this.api.markNotificationsRead({ messageIds: [n.messageId] }).then(
        (r) => {
          if (this.state.session?.user.id === me) this.setInbox({ unreadTotal: r.unreadTotal });
        },
        () => {
          if (this.state.session?.user.id === me) void this.loadInbox();
        },
      );
    }
    return opened;
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
    await this.lookUpMembers([...new Set(roomIds)].filter((id) => !this.state.members[id]));
  }

  /** Reads the members of these rooms, a few rooms at a time. */
  private async lookUpMembers(roomIds: readonly string[]): Promise<void> {
    const todo = [...roomIds];
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
    // The message ends the others' "typing…": typing again says so at once.
    this.typingSentAt.delete(roomId);
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
        this.onLiveMessage(f.message);
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
        // The server moved my marker to my own message.
        this.raiseMark(f.roomId, f.seq);
        return;
      }
      case 'room':
        if (f.event === 'left') this.removeRoom(f.room.id);
        else this.addRoom(f.room);
        return;
      case 'error':
        this.onError(f.code, f.message, f.ref);
        return;
      case 'unread':
        this.onUnread(f.roomId, f.count);
        return;
      case 'read':
        this.onReadBy(f.roomId, f.userId, f.seq);
        return;
      case 'typing':
        this.onTyping(f.roomId, f.userId);
        return;
      case 'presence':
        this.onPresence(f.users);
        return;
      case 'notification':
        this.onNotification(f.unreadTotal, f.notification);
        return;
      default:
        return;
    }
  }

  /**
   * A live message: its sender stops typing; in a room not being read, the unread count goes up
   * until the `unread` frame right behind it says the exact number.
   */
  private onLiveMessage(m: Message): void {
    const roomId = m.roomId;
    const before = this.roomById(roomId);
    this.stopTyping(roomId, m.senderId);
    this.onMessages(roomId, [m]);
    if (!before) return;
    if (m.senderId === this.state.session?.user.id) {
      // Sent on another device: read there, so read here.
      this.raiseMark(roomId, m.seq);
      this.setUnread(roomId, 0);
    } else if (m.seq > before.lastSeq && readingRoomOf(this.state) !== roomId) {
      this.setUnread(roomId, (this.roomById(roomId)?.unread ?? 0) + 1);
    }
  }

  /** The server's count of my unread messages in a room: it wins over any local guess. */
  private onUnread(roomId: string, count: number): void {
    const room = this.roomById(roomId);
    if (!room) return;
    this.raiseMark(roomId, room.lastSeq - count);
    this.setUnread(roomId, count);
    this.considerRead();
  }

  /** A member read up to `seq` (my own other sockets' reads too). */
  private onReadBy(roomId: string, userId: string, seq: number): void {
    if (userId === this.state.session?.user.id) this.raiseMark(roomId, seq);
    const reads = this.state.readSeqs[roomId];
    if ((reads?.[userId] ?? -1) >= seq) return;
    this.set({ readSeqs: { ...this.state.readSeqs, [roomId]: { ...reads, [userId]: seq } } });
  }

  /** Someone types: shown for LIMITS.typingShowMs after their last frame, or until their message. */
  private onTyping(roomId: string, userId: string): void {
    if (userId === this.state.session?.user.id) return;
    if (!this.state.rooms.some((r) => r.id === roomId)) return;
    const key = `${roomId} ${userId}`;
    const timer = this.typingTimers.get(key);
    if (timer !== undefined) this.timers.clearTimeout(timer);
    this.typingTimers.set(
      key,
      this.timers.setTimeout(() => this.stopTyping(roomId, userId), LIMITS.typingShowMs),
    );
    const now = this.state.typing[roomId] ?? [];
    if (!now.includes(userId)) {
      this.set({ typing: { ...this.state.typing, [roomId]: [...now, userId] } });
    }
  }

  private stopTyping(roomId: string, userId: string): void {
    const key = `${roomId} ${userId}`;
    const timer = this.typingTimers.get(key);
    if (timer === undefined) return;
    this.timers.clearTimeout(timer);
    this.typingTimers.delete(key);
    const rest = (this.state.typing[roomId] ?? []).filter((id) => id !== userId);
    const { [roomId]: _, ...others } = this.state.typing;
    this.set({ typing: rest.length > 0 ? { ...others, [roomId]: rest } : others });
  }

  private onPresence(users: readonly { userId: string; online: boolean }[]): void {
    const presence = { ...this.state.presence };
    let changed = false;
    for (const u of users) {
      if (presence[u.userId] === u.online) continue;
      presence[u.userId] = u.online;
      changed = true;
    }
    if (changed) this.set({ presence });
  }

  /** My inbox changed: a new entry, or entries were read (on any device: only the count says which). */
  private onNotification(unreadTotal: number, n: Notification | undefined): void {
    const inbox = this.state.inbox;
    let items = inbox.items;
    if (n) items = mergeNotifications(items, [n]);
    else if (unreadTotal === 0) items = markRead(items, () => true).items;
    this.setInbox({ items, unreadTotal });
  }

  private onReady(): void {
    this.readyCount++;
    this.syncing.clear();
    // Sends that were waiting for the socket go now; the same clientMsgId makes a repeat harmless.
    for (const t of Object.values(this.state.timelines)) {
      for (const p of t.pending) if (p.status === 'pending') this.connection?.send(sendFrame(p));
    }
    if (this.readyCount > 1) {
      // After a drop the room list may have changed (joined or left on another device), and
      // unread counts, mentions and presence changed unseen: read them again.
      void this.loadRooms();
      void this.loadInbox();
      this.refreshPresence();
    }
    this.considerRead();
  }

  private onMessages(roomId: string, ms: readonly Message[], more = false): void {
    const t = this.state.timelines[roomId];
    if (t) this.commit(roomId, tl.applyMessages(t, ms));
    const last = ms.at(-1);
    if (last) this.touchRoom(last);
    // Now that the room's last seq has them too.
    if (roomId === this.state.selectedRoomId) this.considerRead();
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
      // The window's, not the session's.
      attention: this.state.attention,
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
    void this.loadInbox();
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
    this.marks.clear();
    this.pendingRead = null;
    if (this.readTimer !== null) this.timers.clearTimeout(this.readTimer);
    this.readTimer = null;
    this.typingSentAt.clear();
    for (const id of this.typingTimers.values()) this.timers.clearTimeout(id);
    this.typingTimers.clear();
    this.inboxLoads++;
    this.sessions.clear();
    if (notify) this.set({ ...signedOut(authMessage), attention: this.state.attention });
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

  /**
   * The members of a room (`GET /rooms/:id`), with who is online and, in rooms of up to 100
   * members, how far each has read (the "Seen" of a DM).
   */
  private loadMembers(roomId: string): Promise<readonly User[] | null> {
    const cached = this.memberLoads.get(roomId);
    if (cached) return cached;
    const load = this.api.room(roomId).then(
      ({ room, members }) => {
        const me = this.state.session?.user.id;
        if (!me) return null;
        const { users, presence, reads, plain } = splitMembers(members, this.state);
        const readSeqs = { ...this.state.readSeqs };
        if (Object.keys(reads).length > 0) readSeqs[roomId] = maxReads(readSeqs[roomId], reads);
        const myRead = reads[me];
        if (myRead !== undefined) this.raiseMark(roomId, myRead);
        this.set({
          members: { ...this.state.members, [roomId]: plain },
          users,
          presence,
          readSeqs,
        });
        if (this.state.rooms.some((r) => r.id === roomId)) this.addRoom(room);
        return plain;
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
    const { [roomId]: _r, ...readSeqs } = this.state.readSeqs;
    this.memberLoads.delete(roomId);
    for (const p of this.state.timelines[roomId]?.pending ?? []) this.clearSendTimer(p.clientMsgId);
    for (const userId of this.state.typing[roomId] ?? []) this.stopTyping(roomId, userId);
    if (this.pendingRead?.roomId === roomId) this.pendingRead = null;
    this.set({
      rooms: this.state.rooms.filter((r) => r.id !== roomId),
      timelines,
      members,
      readSeqs,
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
    if (roomId === this.state.selectedRoomId) this.considerRead();
  }

  // ---- unread counts and reading ----

  private roomById(roomId: string): RoomView | undefined {
    return this.state.rooms.find((r) => r.id === roomId);
  }

  private raiseMark(roomId: string, seq: number): void {
    if (seq > (this.marks.get(roomId) ?? 0)) this.marks.set(roomId, seq);
  }

  private setUnread(roomId: string, count: number): void {
    const rooms = withUnread(this.state.rooms, roomId, count);
    if (rooms !== this.state.rooms) this.set({ rooms });
  }

  /**
   * The room being read shows messages past my marker: a `read` up to the newest one shown
   * (never past the room's last seq known), READ_DEBOUNCE_MS from now.
   */
  private considerRead(): void {
    const roomId = readingRoomOf(this.state);
    if (!roomId || !this.connection) return;
    const t = this.state.timelines[roomId];
    const room = this.roomById(roomId);
    if (!t?.loaded || !room) return;
    const seq = Math.min(tl.lastSeq(t), room.lastSeq);
    if (seq <= (this.marks.get(roomId) ?? 0)) return;
    if (this.pendingRead && this.pendingRead.roomId !== roomId) this.flushRead();
    this.pendingRead = { roomId, seq };
    if (this.readTimer === null) {
      this.readTimer = this.timers.setTimeout(() => {
        this.readTimer = null;
        this.flushRead();
      }, READ_DEBOUNCE_MS);
    }
  }

  /**
   * Sends the waiting `read`: as a frame, or over HTTP when no socket is open. The room's count
   * and its mentions are read here at once; the server's `unread` and `notification` frames
   * confirm them.
   */
  private flushRead(): void {
    if (this.readTimer !== null) this.timers.clearTimeout(this.readTimer);
    this.readTimer = null;
    const p = this.pendingRead;
    this.pendingRead = null;
    const room = p && this.roomById(p.roomId);
    if (!p || !room || p.seq <= (this.marks.get(p.roomId) ?? 0)) return;
    const { roomId, seq } = p;
    const before = this.marks.get(roomId);
    this.marks.set(roomId, seq);
    this.setUnread(roomId, room.lastSeq - seq);
    const { items, marked } = markRead(
      this.state.inbox.items,
      (n) => n.roomId === roomId && n.seq <= seq,
    );
    if (marked > 0) {
      this.setInbox({ items, unreadTotal: Math.max(0, this.state.inbox.unreadTotal - marked) });
    }
    if (this.connection?.send({ type: 'read', roomId, seq })) return;
    const me = this.state.session?.user.id;
    this.api.markRead(roomId, seq).then(
      (r) => {
        if (this.state.session?.user.id === me) this.setUnread(roomId, r.unread);
      },
      () => {
        // Not read after all: the next chance tries again.
        if (this.marks.get(roomId) !== seq) return;
        if (before === undefined) this.marks.delete(roomId);
        else this.marks.set(roomId, before);
      },
    );
  }

  /** Presence changed unseen while the socket was down: the open room's and the DMs' members again. */
  private refreshPresence(): void {
    const selected = this.state.selectedRoomId;
    const ids = this.state.rooms
      .filter((r) => r.kind === 'dm' || r.id === selected)
      .map((r) => r.id);
    for (const id of ids) this.memberLoads.delete(id);
    void this.lookUpMembers(ids);
  }

  private setInbox(patch: Partial<InboxState>): void {
    this.set({ inbox: { ...this.state.inbox, ...patch } });
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

/**
 * Members as `GET /rooms/:id` lists them, split: plain users (names), who is online, how far each
 * has read.
 */
function splitMembers(members: readonly Member[], s: ChatState) {
  const users = { ...s.users };
  const presence = { ...s.presence };
  const reads: Record<string, number> = {};
  const plain: User[] = [];
  for (const m of members) {
    const u: User = { id: m.id, username: m.username, displayName: m.displayName };
    plain.push(u);
    users[u.id] = u;
    if (m.online !== undefined) presence[u.id] = m.online;
    if (m.readSeq !== undefined) reads[u.id] = m.readSeq;
  }
  return { users, presence, reads, plain };
}

/** Read seqs only grow: a member list read before a `read` frame must not lower it. */
function maxReads(
  have: Readonly<Record<string, number>> | undefined,
  next: Record<string, number>,
): Record<string, number> {
  const out = { ...have };
  for (const [id, seq] of Object.entries(next)) out[id] = Math.max(out[id] ?? 0, seq);
  return out;
}

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
