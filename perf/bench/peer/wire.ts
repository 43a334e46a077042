/**
 * A minimal WebSocket client over `node:net`, for the peer bench's load clients: thousands of
 * sockets in one process, each as cheap as the bench can make it, so the client side takes as
 * little of the two shared cores as it can and both servers are measured with the same client.
 *
 * What it does: the HTTP/1.1 upgrade (no `Origin`: a non-browser client), unmasked server frames
 * parsed in place (text, continuation, ping → pong, close → close), masked client text frames.
 * The mask key is four zero bytes: legal (RFC 6455 only asks the key be unpredictable, against
 * proxy cache poisoning, which loopback has none of) and it makes masking a copy. What it skips:
 * UTF-8 validation, extensions (no `permessage-deflate` is offered), `Sec-WebSocket-Accept`
 * checking beyond the 101 status (both servers are trusted here).
 */
import { connect, type Socket } from 'node:net';

/** The clock both this process and the publisher read (one system clock, sub-ms resolution). */
export const sharedNow = (): number => performance.timeOrigin + performance.now();

/** Any fixed 16-byte key, base64: the servers only hash it back. */
const WS_KEY = Buffer.from('parley-peer-test').toString('base64');
/** A refused upgrade's response is read up to this many bytes, for the error it carries. */
const MAX_HEAD_BYTES = 16 * 1024;

export interface WireTarget {
  host: string;
  port: number;
  /** The request path with its query (`/ws?token=…`). */
  path: string;
  /** The source address (127.x.y.z): the servers see clients spread over many addresses. */
  localAddress?: string;
  /** A `Sec-WebSocket-Protocol` header value, if any. */
  protocol?: string;
}

export interface WireHandlers {
  /** The upgrade was answered 101. */
  onOpen(ws: WireSocket): void;
  /**
   * A whole text message. `payload` is a view into the socket's read buffer: read it now, do not
   * keep it. `at` is when the TCP chunk that completed it was read (sharedNow).
   */
  onText(ws: WireSocket, payload: Buffer, at: number): void;
  /** The socket is gone: closed by either side, refused at the upgrade, or failed. */
  onClose(ws: WireSocket, reason: string): void;
}

export class WireSocket {
  /** Free for the owner: what this socket is in the bench (its index, its state). */
  index = 0;
  ready = false;
  startedAt = 0;
  private readonly socket: Socket;
  private open = false;
  private closed = false;
  private pending: Buffer | undefined;
  private fragments: Buffer[] | undefined;

  constructor(
    target: WireTarget,
    private readonly handlers: WireHandlers,
  ) {
    this.startedAt = sharedNow();
    this.socket = connect({
      host: target.host,
      port: target.port,
      localAddress: target.localAddress,
      noDelay: true,
    });
    this.socket.on('connect', () => {
      const protocol = target.protocol ? `Sec-WebSocket-Protocol: ${target.protocol}\r\n` : '';
      this.socket.write(
        `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\n` +
          `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\n` +
          `Sec-WebSocket-Version: 13\r\n${protocol}\r\n`,
      );
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.finish(`socket error: ${err.message}`));
    this.socket.on('close', () => this.finish(this.open ? 'closed' : 'closed before the upgrade'));
  }

  get isOpen(): boolean {
    return this.open && !this.closed;
  }

  /** Sends one text frame (masked, as a client must). */
  sendText(text: string): void {
    if (!this.isOpen) return;
    this.socket.write(frame(0x1, Buffer.from(text)));
  }

  /** Sends a close frame and ends the TCP connection. */
  close(code = 1000): void {
    if (this.closed) return;
    if (this.open) {
      const p = Buffer.alloc(2);
      p.writeUInt16BE(code);
      this.socket.write(frame(0x8, p));
    }
    this.socket.end();
    // A peer that does not answer the close does not hold the socket.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  /** Drops the connection without a close frame (what a crashed client does). */
  destroy(): void {
    this.socket.destroy();
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.handlers.onClose(this, reason);
  }

  private onData(chunk: Buffer): void {
    const at = sharedNow();
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let i = 0;
    if (!this.open) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_HEAD_BYTES) this.finish('upgrade response too long');
        else this.pending = buf;
        return;
      }
      const head = buf.subarray(0, end).toString('latin1');
      const status = head.slice(0, head.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101 /.test(status)) {
        // A refusal: its status line and (the start of) its JSON body say why.
        const body = buf.subarray(end + 4, end + 4 + 300).toString('utf8');
        this.finish(`upgrade refused: ${status} ${body}`.trim());
        return;
      }
      this.open = true;
      i = end + 4;
      this.handlers.onOpen(this);
    }
    while (!this.closed && buf.length - i >= 2) {
      const b0 = buf[i] as number;
      const b1 = buf[i + 1] as number;
      let len = b1 & 0x7f;
      let off = i + 2;
      if (len === 126) {
        if (buf.length - i < 4) break;
        len = buf.readUInt16BE(i + 2);
        off = i + 4;
      } else if (len === 127) {
        if (buf.length - i < 10) break;
        len = Number(buf.readBigUInt64BE(i + 2));
        off = i + 10;
      }
      if (b1 & 0x80) {
        this.finish('protocol error: a masked frame from the server');
        return;
      }
      if (buf.length - off < len) break;
      this.onFrame(b0, buf.subarray(off, off + len), at);
      i = off + len;
    }
    // An incomplete frame waits for the rest (copied: the chunk it came in is not kept whole).
    if (i < buf.length && !this.closed) this.pending = Buffer.from(buf.subarray(i));
  }

  private onFrame(b0: number, payload: Buffer, at: number): void {
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    switch (opcode) {
      case 0x1:
        if (fin) this.handlers.onText(this, payload, at);
        else this.fragments = [Buffer.from(payload)];
        return;
      case 0x0:
        if (!this.fragments) {
          this.finish('protocol error: a continuation of nothing');
          return;
        }
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = undefined;
          this.handlers.onText(this, whole, at);
        }
        return;
      case 0x9:
        this.socket.write(frame(0xa, payload));
        return;
      case 0x8: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.subarray(2).toString('utf8');
        if (!this.socket.destroyed) this.socket.end(frame(0x8, payload.subarray(0, 2)));
        this.finish(`closed by the server: ${code}${reason ? ` ${reason}` : ''}`);
        return;
      }
      default:
        return; // pong, binary: not used by either server here
    }
  }
}

/** A client frame: FIN, the opcode, the mask bit with a zero key, the payload as it is. */
function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + 4);
  head[0] = 0x80 | opcode;
  if (ext === 0) head[1] = 0x80 | len;
  else if (ext === 2) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}
