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
} as const;
