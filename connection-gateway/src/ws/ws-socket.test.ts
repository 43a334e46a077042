import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { OutFrame } from './out-frame';
import { WsSocket } from './ws-socket';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A real server-side `ws` socket (and its TCP socket) wrapped in a WsSocket, and a client on it. */
async function pair() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  cleanup.push(() => wss.close());
  await new Promise<void>((r) => wss.once('listening', r));
  const server = new Promise<{ ws: WebSocket; socket: WsSocket; writes: () => number }>((resolve) =>
    wss.once('connection', (ws, req) => {
      // Counts the writes to the TCP socket (each is one system call, or one buffered chunk).
      const tcp = req.socket;
      let writes = 0;
      const write = tcp.write.bind(tcp) as (...args: unknown[]) => boolean;
      tcp.write = ((...args: unknown[]) => {
        writes++;
        return write(...args);
      }) as typeof tcp.write;
      resolve({ ws, socket: new WsSocket(ws, tcp as Duplex), writes: () => writes });
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  cleanup.push(() => client.terminate());
  const got: string[] = [];
  client.on('message', (d) => got.push(d.toString()));
  await new Promise((r) => client.once('open', r));
  return { ...(await server), client, got };
}

const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('WsSocket', () => {
  it("keeps framed writes and ws's own sends in the order they were made", async () => {
    const { socket, got } = await pair();
    // All in one turn: the framed ones are corked together, ws.send nests inside the cork.
    socket.sendFrame(new OutFrame('1').wire);
    socket.send('2');
    socket.sendFrame(new OutFrame('3').wire);
    socket.sendFrame(new OutFrame('4'.repeat(70_000)).wire);
    socket.send('5');
    await until(() => got.length === 5);
    expect(got.map((t) => t.slice(0, 3))).toEqual(['1', '2', '3', '444', '5']);
    expect(got[3]).toHaveLength(70_000);
    // A later turn is a new batch, still in order.
    socket.sendFrame(new OutFrame('6').wire);
    await until(() => got.length === 6);
    expect(got[5]).toBe('6');
  });

  it('writes nothing after the close frame, and counts what waits in bufferedAmount', async () => {
    const { socket, client, got } = await pair();
    socket.sendFrame(new OutFrame('before').wire);
    expect(socket.bufferedAmount).toBeGreaterThan(0); // corked until this turn ends
    const closed = new Promise<number>((r) => client.once('close', (code) => r(code)));
    socket.close(4001, 'token expired');
    socket.sendFrame(new OutFrame('after').wire);
    expect(await closed).toBe(4001);
    expect(got).toEqual(['before']);
  });

  it('writes the frames of one turn in one write, a later turn in another', async () => {
    const { socket, got, writes } = await pair();
    const before = writes();
    for (const t of ['a', 'b', 'c']) socket.sendFrame(new OutFrame(t).wire);
    expect(writes()).toBe(before); // nothing yet: the turn is not over
    await until(() => got.length === 3);
    expect(got).toEqual(['a', 'b', 'c']);
    expect(writes()).toBe(before + 1);
    socket.sendFrame(new OutFrame('d').wire);
    await until(() => got.length === 4);
    expect(writes()).toBe(before + 2);
  });
});
