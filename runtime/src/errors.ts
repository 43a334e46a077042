/**
 * The one error type of Parley: a protocol error code, its HTTP status,
 * whether retrying can help, and the cause. Thrown by domain code for
 * expected failures; anything else is a bug and becomes `internal`.
 */
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@parley/protocol';

export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retriable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retriable = options?.retriable ?? ERROR_CODES[code].retriable;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Wraps anything thrown into a ParleyError; unknown errors become `internal` (retriable). */
export function asParleyError(err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  if (isConnectionFailure(err))
    return new ParleyError('unavailable', 'a dependency is unreachable; retry shortly', {
      cause: err,
    });
  return new ParleyError('internal', 'internal error', { cause: err });
}

/** Socket-level codes of Node, mysql2 and ioredis that mean "could not talk to it", not a bug. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
]);

/** A database, Redis or peer that is down or restarting (a client retry will do), not a bug. */
function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  // ioredis: commands given up while reconnecting, or sent on a closed connection.
  return err.name === 'MaxRetriesPerRequestError' || err.message === 'Connection is closed.';
}

/** Formats zod issues into one readable sentence for a 4xx body. */
export function describeIssues(
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}
