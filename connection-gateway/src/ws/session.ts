/**
 * One authenticated WebSocket: who it is, which rooms it follows, which sends
 * are waiting for their ack, and how much it may still send. The socket
 * itself sits behind `SocketLike`, so `ws` is an adapter detail.
 */
import type { ServerFrame } from '@parley/protocol';
import { TokenBucket } from '../middleware/rate-limit';
import type { ServerFrameType, SessionMetrics } from './metrics';
import type { OutFrame } from './out-frame';

export interface SocketLike {
  send(data: string): void;
  /**
   * Writes a complete WebSocket frame as it is (OutFrame.wire), in order with `send`. Optional:
   * a socket without it is sent the frame's text instead.
   */
  sendFrame?(wire: Buffer): void;
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
  /**
   * `rate_limited` refusals within a minute before the socket is closed: not strikes (a client
   * flushing its outbox is slow, not abusive), but a client that keeps sending into the refusal
   * is closed all the same. Default 300.
   */
  rateLimitedStrikes?: number;
}

const pendingKey = (roomId: string, clientMsgId: string) => `${roomId}\n${clientMsgId}`;

export class Session {
  readonly rooms = new Set<string>();
  /**
   * (roomId, clientMsgId) → when it was sent, for sends awaiting their ack. Made at the first
   * send: a socket that only listens (most of them) carries none of this, nor the strike buckets.
   */
  private pending: Map<string, number> | undefined;
  /** Frames per second the client may send. */
  readonly bucket: TokenBucket;
  /** Refusals the client may still earn before it is closed; refills over a minute. */
  private abuse: TokenBucket | undefined;
  /** `rate_limited` refusals the client may still earn before it is closed; refills over a minute. */
  private overLimit: TokenBucket | undefined;
  /**
   * False until the session has loaded its rooms and sent `ready`. Room
   * events that arrive meanwhile are recorded here (last one wins), so a
   * leave or join that races the initial room list is not lost.
   */
  ready = false;
  readonly roomEventsDuringSetup = new Map<string, 'joined' | 'left'>();
  closed = false;
  /** Sends handed to the producer whose outcome is not known yet (frames.ts). */
  sendsInFlight = 0;
  /** Heartbeat intervals since the socket last answered a ping or sent a frame (server.ts). */
  silentBeats = 0;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly tokenExp: number,
    private readonly socket: SocketLike,
    private readonly limits: SessionLimits,
    /**
     * Counts the frames this session writes by `send`/`sendText` (one each); those written by
     * `sendOut` are counted by the caller, once for all its sockets (hub.ts).
     */
    private readonly metrics?: SessionMetrics,
  ) {
    this.bucket = new TokenBucket(limits.perSecond, limits.burst);
  }

  /** Sends a frame; false if not sent (closed, or too slow). */
  send(frame: ServerFrame): boolean {
    return !this.closed && this.sendText(JSON.stringify(frame), frame.type);
  }

  /** Sends a frame of `type` already serialized (one whose size was measured first); false if not sent. */
  sendText(json: string, type: ServerFrameType): boolean {
    if (!this.keepingUp()) return false;
    this.socket.send(json);
    this.metrics?.framesOut(type);
    return true;
  }

  /**
   * Sends a frame serialized and framed once for many sockets (ws/out-frame.ts); false if not sent.
   * Not counted here: the caller counts the sockets it reached, once (`framesOut(type, n)`).
   */
  sendOut(out: OutFrame): boolean {
    if (!this.keepingUp()) return false;
    if (this.socket.sendFrame) this.socket.sendFrame(out.wire);
    else this.socket.send(out.text);
    return true;
  }

  /** False when closed, or when the socket is too slow to keep up (then closed with 1013). */
  private keepingUp(): boolean {
    if (this.closed) return false;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.metrics?.slowReaderClosed();
      this.close(1013, 'too slow to keep up');
      return false;
    }
    return true;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
  }

  /** Counts one refusal; false when the client has run out of them (close the socket). */
  strike(): boolean {
    const { strikes } = this.limits;
    this.abuse ??= new TokenBucket(strikes / STRIKE_WINDOW_SECONDS, strikes);
    return this.abuse.take();
  }

  /** Counts one `rate_limited` refusal; false when the client has run out of them (close it). */
  rateLimitedStrike(): boolean {
    const n = this.limits.rateLimitedStrikes ?? 300;
    this.overLimit ??= new TokenBucket(n / STRIKE_WINDOW_SECONDS, n);
    return this.overLimit.take();
  }

  /** When `clientMsgId` was last handed to the producer, if its ack is still awaited. */
  pendingSince(clientMsgId: string, roomId: string): number | undefined {
    return this.pending?.get(pendingKey(roomId, clientMsgId));
  }

  /** Marks a send as waiting for its ack; drops entries older than the TTL. */
  addPending(clientMsgId: string, roomId: string, now = Date.now()): void {
    this.pending ??= new Map();
    if (this.pending.size > 1000) {
      for (const [k, at] of this.pending) if (now - at > PENDING_TTL_MS) this.pending.delete(k);
    }
    this.pending.set(pendingKey(roomId, clientMsgId), now);
  }

  /** True (and forgets it) when this session sent `clientMsgId` in `roomId` and awaits its ack. */
  takePending(clientMsgId: string, roomId: string): boolean {
    return this.pending?.delete(pendingKey(roomId, clientMsgId)) ?? false;
  }
}
