import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceClient } from './service-client';

/** A real HTTP server on 127.0.0.1 (the real mode's getJson goes over node:http). */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('serviceClient over HTTP (the real mode)', () => {
  it('gets JSON with the path, query and headers it was given', async () => {
    const base = await serve((req, res) =>
      json(res, 200, { url: req.url, who: req.headers['x-who'] ?? null }),
    );
    const client = serviceClient(`${base}/`);
    await expect(
      client.getJson('/internal/users?ids=u_1,u_2', { headers: { 'x-who': 'gateway' } }),
    ).resolves.toEqual({ url: '/internal/users?ids=u_1,u_2', who: 'gateway' });
  });

  it('answers null for a 404, and the error code of a 4xx as a ParleyError', async () => {
    const base = await serve((req, res) =>
      req.url === '/missing'
        ? json(res, 404, { error: { code: 'not_found', message: 'no' } })
        : json(res, 403, { error: { code: 'not_member', message: 'not yours' } }),
    );
    const client = serviceClient(base);
    await expect(client.getJson('/missing')).resolves.toBeNull();
    await expect(client.getJson('/room')).rejects.toMatchObject({
      code: 'not_member',
      message: 'not yours',
    });
  });

  it('turns a 5xx, or a 4xx without a known code, into unavailable', async () => {
    const base = await serve((req, res) =>
      req.url === '/teapot' ? json(res, 418, { error: { code: 'teapot' } }) : json(res, 500, {}),
    );
    const client = serviceClient(base);
    await expect(client.getJson('/boom')).rejects.toMatchObject({
      code: 'unavailable',
      message: 'a service Parley depends on failed',
    });
    await expect(client.getJson('/teapot')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('is unavailable when nothing listens, or nothing answers in time', async () => {
    const closed = await serve(() => undefined);
    const silent = serviceClient(closed, undefined, 100);
    await expect(silent.getJson('/slow')).rejects.toMatchObject({
      code: 'unavailable',
      message: 'a service Parley depends on is unreachable',
    });
    const gone = serviceClient('http://127.0.0.1:1');
    await expect(gone.getJson('/x')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('retries once when the server closed the kept-alive socket it reused', async () => {
    // The second request on any connection finds it closed without an answer.
    const served = new WeakMap<Socket, number>();
    let connections = 0;
    const base = await serve((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n === 1) connections++;
      if (n > 1) req.socket.destroy();
      else json(res, 200, { n: connections });
    });
    const client = serviceClient(base);
    await expect(client.getJson('/a')).resolves.toEqual({ n: 1 });
    await expect(client.getJson('/b')).resolves.toEqual({ n: 2 });
    expect(connections).toBe(2);
  });

  it('still goes through a given fetch (the embedded mode), with its answers read the same way', async () => {
    const seen: string[] = [];
    const client = serviceClient('http://rooms.embedded', async (req) => {
      seen.push(new URL(req.url).pathname);
      return new Response(JSON.stringify({ roomIds: ['r_1'] }), { status: 200 });
    });
    await expect(client.getJson('/internal/users/u_1/room-ids')).resolves.toEqual({
      roomIds: ['r_1'],
    });
    expect(seen).toEqual(['/internal/users/u_1/room-ids']);
  });
});
