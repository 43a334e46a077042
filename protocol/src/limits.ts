/**
 * Limits every edge enforces. No zod here: the web client imports this file
 * and must not pull a schema library into its bundle.
 */
export const LIMITS = {
  /** Longest message body in characters (Unicode code points). */
  messageBodyMaxChars: 4000,
  /** Largest WebSocket frame the gateway accepts, in bytes. */
  frameMaxBytes: 16 * 1024,
  /** Longest clientMsgId. */
  clientMsgIdMaxChars: 64,
  /** Room names. */
  roomNameMaxChars: 80,
  /** Members named when a room is created. */
  roomInitialMembersMax: 100,
  /** History page size. */
  historyPageMax: 100,
  historyPageDefault: 50,
  /** Rooms in one sync frame. */
  syncRoomsMax: 500,
  /** Messages returned per room by one sync before `complete: false`. */
  syncMessagesMax: 200,
  usernameMinChars: 3,
  usernameMaxChars: 32,
  passwordMinChars: 8,
  passwordMaxChars: 256,
  displayNameMaxChars: 64,
  /** Search: longest query, most distinct terms it may analyze into, page size. */
  searchQueryMaxChars: 200,
  searchQueryMaxTerms: 64,
  searchPageMax: 50,
  searchPageDefault: 20,
  /**
   * Notifications. Distinct `@username`s of one message that can notify: the first 20 in the body;
   * the rest are ignored (a mention storm costs 20 look-ups, never 500).
   */
  mentionsPerMessageMax: 20,
  /** The text of a mention in the inbox: the body's first 200 characters (code points). */
  mentionExcerptMaxChars: 200,
  /** Inbox page size. */
  notificationsPageMax: 50,
  notificationsPageDefault: 20,
  /** Inbox entries one `POST /notifications/read` may name. */
  notificationsReadMax: 100,
  /**
   * Presence changes and read receipts are pushed to the members of rooms up to this many members
   * (and of every DM); in larger rooms they are not (10,000 members coming online at once would be
   * 10,000² frames): the member list (`GET /rooms/:id`) says who is online when it is loaded.
   */
  liveSignalsRoomMaxMembers: 100,
  /** A `typing` frame of a user in a room is relayed at most once per this many ms; the rest are dropped. */
  typingThrottleMs: 2_500,
  /** A typing indicator is shown this long after the last `typing` frame (or until that user's message). */
  typingShowMs: 6_000,
  /** Presence changes are gathered this long per room and sent as one `presence` frame. */
  presenceFlushMs: 1_000,
  /** Users in one `presence` frame (more changes in one flush go in further frames). */
  presenceFrameMaxUsers: 200,
} as const;
