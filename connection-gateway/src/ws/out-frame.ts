/**
 * A server frame serialized once and framed once, for the frames the gateway sends to many
 * sockets (a room's `message`, `unread`, `read`, `presence`): the JSON text, and the whole
 * WebSocket frame on the wire — header and UTF-8 payload in one Buffer — built on first use and
 * then written as it is to every socket. A server's frames are never masked (RFC 6455 §5.1) and
 * the gateway negotiates no extension (no permessage-deflate), so the bytes are the same for
 * every recipient; per socket, what is left is one write (perf/bench/peer measured `ws.send` of a
 * string — encode, frame, cork, writev — at about half the gateway's CPU of a fan-out).
 *
 * @example
 * const out = new OutFrame(JSON.stringify(frame));
 * for (const s of sessions) s.sendOut(out);
 */
export class OutFrame {
  private bytes: Buffer | undefined;

  constructor(readonly text: string) {}

  /** The complete WebSocket text frame (FIN, opcode 1, unmasked, the payload's length). */
  get wire(): Buffer {
    this.bytes ??= textFrame(this.text);
    return this.bytes;
  }
}

/** A single-fragment, unmasked WebSocket text frame carrying `text` (RFC 6455 §5.2). */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + text
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, headerLength, 'utf8');
  return frame;
}
