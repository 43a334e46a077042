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

export class Session {
  readonly rooms = new Set<string>();
  /** clientMsgId → when it was sent, for sends awaiting their ack. */
  readonly pending = new Map<string, { roomId: string; at: number }>();
  readonly bucket: TokenBucket;
  /** Refused frames in a row; reset by any accepted frame. */
  strikes = 0;
  closed = false;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly tokenExp: number,
    private readonly socket: SocketLike,
    rate: { perSecond: number; burst: number },
  ) {
    this.bucket = new TokenBucket(rate.perSecond, rate.burst);
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

  /** Marks a send as waiting for its ack; drops entries older than the TTL. */
  addPending(clientMsgId: string, roomId: string, now = Date.now()): void {
    if (this.pending.size > 1000) {
      for (const [k, v] of this.pending) if (now - v.at > PENDING_TTL_MS) this.pending.delete(k);
    }
    this.pending.set(clientMsgId, { roomId, at: now });
  }

  /** True (and forgets it) when this session sent `clientMsgId` in `roomId` and awaits its ack. */
  takePending(clientMsgId: string, roomId: string): boolean {
    const p = this.pending.get(clientMsgId);
    if (!p || p.roomId !== roomId) return false;
    this.pending.delete(clientMsgId);
    return true;
  }
}
