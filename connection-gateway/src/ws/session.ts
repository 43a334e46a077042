/**
 * One authenticated WebSocket: who it is, which rooms it follows, which sends
 * are waiting for their ack, and how much it may still send. The socket
 * itself sits behind `SocketLike`, so `ws` is an adapter detail.
 */
import type { ServerFrame } from '@parley/protocol';
import { TokenBucket } from '../middleware/rate-limit';

export interface SocketLike {
  send(data: string): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

/** A socket that keeps more than this unsent is too slow to keep up; it is closed (1013). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Pending sends are forgotten after this long (the client retries with the same clientMsgId). */
export const PENDING_TTL_MS = 120_000;
/** Refusals are forgiven at this pace: `strikes` refusals within a minute close the socket. */
const STRIKE_WINDOW_SECONDS = 60;

export interface SessionLimits {
  perSecond: number;
  burst: number;
  /** Refused frames within a minute before the socket is closed. */
  strikes: number;
}

const pendingKey = (roomId: string, clientMsgId: string) => `${roomId}\n${clientMsgId}`;

export class Session {
  readonly rooms = new Set<string>();
  /** (roomId, clientMsgId) → when it was sent, for sends awaiting their ack. */
  private readonly pending = new Map<string, number>();
  /** Frames per second the client may send. */
  readonly bucket: TokenBucket;
  /** Refusals the client may still earn before it is closed; refills over a minute. */
  private readonly abuse: TokenBucket;
  /**
   * False until the session has loaded its rooms and sent `ready`. Room
   * events that arrive meanwhile are recorded here (last one wins), so a
   * leave or join that races the initial room list is not lost.
   */
  ready = false;
  readonly roomEventsDuringSetup = new Map<string, 'joined' | 'left'>();
  closed = false;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly tokenExp: number,
    private readonly socket: SocketLike,
    limits: SessionLimits,
  ) {
    this.bucket = new TokenBucket(limits.perSecond, limits.burst);
    this.abuse = new TokenBucket(limits.strikes / STRIKE_WINDOW_SECONDS, limits.strikes);
  }

  send(frame: ServerFrame): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(1013, 'too slow to keep up');
      return;
    }
    this.socket.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
  }

  /** Counts one refusal; false when the client has run out of them (close the socket). */
  strike(): boolean {
    return this.abuse.take();
  }

  /** Marks a send as waiting for its ack; drops entries older than the TTL. */
  addPending(clientMsgId: string, roomId: string, now = Date.now()): void {
    if (this.pending.size > 1000) {
      for (const [k, at] of this.pending) if (now - at > PENDING_TTL_MS) this.pending.delete(k);
    }
    this.pending.set(pendingKey(roomId, clientMsgId), now);
  }

  /** True (and forgets it) when this session sent `clientMsgId` in `roomId` and awaits its ack. */
  takePending(clientMsgId: string, roomId: string): boolean {
    return this.pending.delete(pendingKey(roomId, clientMsgId));
  }
}
