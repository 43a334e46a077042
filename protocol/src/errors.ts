/**
 * Error codes of protocol v1. The same codes appear in HTTP error bodies
 * (`{error: {code, message}}`) and in WebSocket `error` frames. The table is
 * the contract: docs/protocol.md is checked against it.
 */
export const ERROR_CODES = {
  bad_request: {
    status: 400,
    retriable: false,
    doc: 'The body, query or frame failed validation.',
  },
  malformed_frame: {
    status: 400,
    retriable: false,
    doc: 'A WebSocket frame that is not JSON or not a known frame type.',
  },
  frame_too_large: {
    status: 413,
    retriable: false,
    doc: 'A WebSocket frame larger than the frame limit.',
  },
  payload_too_large: {
    status: 413,
    retriable: false,
    doc: 'An HTTP request body larger than 64 KiB.',
  },
  body_too_long: { status: 400, retriable: false, doc: 'A message body longer than the limit.' },
  unauthorized: {
    status: 401,
    retriable: false,
    doc: 'Missing, malformed or expired token; wrong password.',
  },
  forbidden: {
    status: 403,
    retriable: false,
    doc: 'Authenticated but not allowed (for example a disallowed Origin).',
  },
  not_member: { status: 403, retriable: false, doc: 'The user is not a member of the room.' },
  not_found: { status: 404, retriable: false, doc: 'No such user, room or route.' },
  method_not_allowed: {
    status: 405,
    retriable: false,
    doc: 'The path exists, but not with this method; the Allow header lists the methods it takes.',
  },
  weak_password: {
    status: 400,
    retriable: false,
    doc: 'Sign-up with a password that is too common, contains the username, or is a pattern.',
  },
  username_taken: { status: 409, retriable: false, doc: 'Sign-up with a username that exists.' },
  conflict: {
    status: 409,
    retriable: false,
    doc: 'The request conflicts with the current state (for example a DM with yourself).',
  },
  rate_limited: {
    status: 429,
    retriable: true,
    doc: 'Too many frames, requests or connections; slow down (error frames say `retryAfterMs`).',
  },
  timeout: {
    status: 504,
    retriable: true,
    doc: 'A command was accepted but its result did not come back in time; retrying is safe.',
  },
  unavailable: {
    status: 503,
    retriable: true,
    doc: 'A dependency is down or the gateway is draining.',
  },
  internal: { status: 500, retriable: true, doc: 'A bug. Logged with its cause.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The HTTP error body of protocol v1. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/**
 * WebSocket close codes. 1008 and 1009 follow RFC 6455; the 4xxx range is
 * Parley's and says whether a client should reconnect.
 */
export const CLOSE_CODES = {
  /** Normal close by either side. Reconnect only if you still want to. */
  normal: { code: 1000, reconnect: false },
  /** The gateway is draining (deploy, scale-in): reconnect with backoff. */
  goingAway: { code: 1001, reconnect: true },
  /**
   * The client broke the WebSocket protocol itself (reserved bits, an unknown opcode, bad
   * fragmentation, a control frame over 125 bytes, an invalid close code): the WebSocket layer
   * closes with it. Fix the client.
   */
  protocolError: { code: 1002, reconnect: false },
  /** A text frame that is not valid UTF-8 (the WebSocket layer closes with it). Fix the client. */
  invalidPayload: { code: 1007, reconnect: false },
  /** The client kept sending refused frames. Do not reconnect in a loop. */
  policyViolation: { code: 1008, reconnect: false },
  /** The client kept sending oversized frames. */
  tooLarge: { code: 1009, reconnect: false },
  /** The token expired while connected: log in again, then reconnect. */
  tokenExpired: { code: 4001, reconnect: false },
  /** Server-side trouble: reconnect with backoff. */
  tryAgainLater: { code: 1013, reconnect: true },
} as const;
