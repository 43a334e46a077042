/** The adapter between a `ws` WebSocket and a Session (ws/session.ts). */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { SocketLike } from './session';

/**
 * A session's socket: `ws` for its own frames, and frames framed once for many sockets
 * (OutFrame) written as they are to the TCP socket under it.
 *
 * Framed writes made in one turn of the event loop go out in one write: they wait in `pending`
 * and a `process.nextTick` writes them (one Buffer, or one concatenation). A lone message costs no
 * wait (the tick ends right after the dispatch), and takes Node's direct write path; when fan-out
 * falls behind, the messages Redis delivered in one read — and a room's `unread` frame after its
 * `message` frame — reach each socket in one system call instead of one each.
 *
 * Order: `ws` writes every frame of its own synchronously (no permessage-deflate, no Blob sends:
 * nothing queues in its Sender), so `send` and `close` write what is pending first. What `ws`
 * writes by itself (a pong, a close after a protocol error) may go before pending frames: a
 * control frame between two messages is legal, and after a close frame (readyState not OPEN)
 * the pending frames are dropped, as `ws.send` would refuse them.
 */
export class WsSocket implements SocketLike {
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Duplex,
  ) {}

  send(data: string): void {
    this.flush();
    this.ws.send(data);
  }

  sendFrame(wire: Buffer): void {
    // After a close frame (CLOSING) nothing more may be sent, as ws.send would refuse.
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.pending) this.pending.push(wire);
    else {
      this.pending = [wire];
      process.nextTick(flushSocket, this);
    }
    this.pendingBytes += wire.length;
  }

  /** Writes what waits (see the class comment); nothing once the socket is no longer OPEN. */
  flush(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    this.pendingBytes = 0;
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.tcp.write(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending));
  }

  close(code: number, reason: string): void {
    this.flush();
    this.ws.close(code, reason);
  }

  /** Bytes not yet handed to the kernel: in ws, in the TCP socket's buffer, and pending here. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount + this.pendingBytes;
  }
}

const flushSocket = (s: WsSocket) => s.flush();
