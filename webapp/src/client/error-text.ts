/**
 * What to tell a person when something failed: by the protocol's error code,
 * in words that say what to do, not what broke.
 */
import type { ErrorCode } from '@parley/protocol/errors';
import { ApiError } from './api';

const TEXT: Partial<Record<ErrorCode, string>> = {
  unauthorized: 'Wrong username or password.',
  username_taken: 'That username is taken. Try another one.',
  not_member: 'You are no longer a member of this room.',
  not_found: 'That no longer exists.',
  rate_limited: 'Slow down a little, then try again.',
  timeout: 'That took too long. Please try again.',
  unavailable: 'Parley is not reachable right now. Please try again.',
  internal: 'Something went wrong on our side. Please try again.',
  body_too_long: 'That message is too long.',
  payload_too_large: 'That is too large to send.',
};

/** For a failed call; `bad_request` and `conflict` carry the server's own explanation. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return err.message;
    return TEXT[err.code] ?? capitalise(err.message);
  }
  return 'Something went wrong. Please try again.';
}

/** For a refused `send` frame (its `error` frame's code and message). */
export function sendErrorText(code: ErrorCode, message: string): string {
  return TEXT[code] ?? capitalise(message);
}

const capitalise = (s: string) => (s ? s[0]?.toUpperCase() + s.slice(1) : s);
