import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { OutFrame, textFrame } from './out-frame';
import { Session, type SocketLike } from './session';

/** ws's frame parser: in the package, not in its type definitions. */
const { Receiver } = ws as unknown as {
  Receiver: new (opts: { isServer: boolean }) => Writable;
};

/** What a WebSocket client makes of `bytes`: the text messages it reads, through ws's own parser. */
function read(bytes: Buffer): Promise<string[]> {
  // A client's receiver: it expects unmasked frames from the server, as RFC 6455 says.
  const receiver = new Receiver({ isServer: false });
  const got: string[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    got.push(data.toString('utf8'));
  });
  return new Promise((resolve, reject) => {
    receiver.on('error', reject);
    receiver.write(bytes, () => resolve(got));
  });
}

describe('textFrame', () => {
  it.each([
    ['empty', ''],
    ['short', '{"type":"unread","roomId":"r_1","count":3}'],
    ['125 bytes (the last 7-bit length)', 'x'.repeat(125)],
    ['126 bytes (the first 16-bit length)', 'x'.repeat(126)],
    ['65,535 bytes (the last 16-bit length)', 'x'.repeat(65_535)],
    ['65,536 bytes (a 64-bit length)', 'x'.repeat(65_536)],
    ['multi-byte UTF-8, counted in bytes', '안녕하세요 👋 '.repeat(20)],
  ])('frames %s text as a client reads it back', async (_, text) => {
    const frame = textFrame(text);
    expect(frame[0]).toBe(0x81); // FIN, text
    expect((frame[1] as number) & 0x80).toBe(0); // unmasked
    expect(await read(frame)).toEqual([text]);
  });

  it('frames back to back are read as separate messages', async () => {
    const texts = ['a', 'é'.repeat(200), '{"type":"message"}'];
    expect(await read(Buffer.concat(texts.map(textFrame)))).toEqual(texts);
  });
});

describe('OutFrame', () => {
  it('frames its text once, on first use, and hands every socket the same bytes', () => {
    const out = new OutFrame('{"type":"message"}');
    const a = out.wire;
    expect(out.wire).toBe(a);
    expect(a.equals(textFrame(out.text))).toBe(true);
  });
});

/** A socket that records what the session wrote through which path. */
class Recording implements SocketLike {
  readonly sent: string[] = [];
  readonly framed: Buffer[] = [];
  readonly closes: number[] = [];
  bufferedAmount = 0;
  constructor(private readonly canFrame: boolean) {
    if (!canFrame) this.sendFrame = undefined;
  }
  send(data: string) {
    this.sent.push(data);
  }
  sendFrame?(wire: Buffer) {
    if (this.canFrame) this.framed.push(wire);
  }
  close(code: number) {
    this.closes.push(code);
  }
}

describe('Session.sendOut', () => {
  const limits = { perSecond: 10, burst: 10, strikes: 5 };
  const out = new OutFrame('{"type":"message","n":1}');

  it('writes the frame as it is to a socket that takes frames, the text to one that does not', () => {
    const framing = new Recording(true);
    expect(new Session('s1', 'u_a', 0, framing, limits).sendOut(out)).toBe(true);
    expect(framing.framed).toEqual([out.wire]);
    expect(framing.sent).toEqual([]);
    const plain = new Recording(false);
    expect(new Session('s2', 'u_a', 0, plain, limits).sendOut(out)).toBe(true);
    expect(plain.sent).toEqual([out.text]);
  });

  it('sends nothing once closed, and closes a socket too slow to keep up (1013)', () => {
    const socket = new Recording(true);
    const s = new Session('s1', 'u_a', 0, socket, limits);
    socket.bufferedAmount = 5 * 1024 * 1024;
    expect(s.sendOut(out)).toBe(false);
    expect(socket.closes).toEqual([1013]);
    socket.bufferedAmount = 0;
    expect(s.sendOut(out)).toBe(false);
    expect(socket.framed).toEqual([]);
  });
});
