/**
 * The gateway's connection-level defences, on a real port: handshake rules, connection caps,
 * the heartbeat and the HTTP timeouts. The rest of Parley is stubbed: these are the gateway's.
 */
import { request } from 'node:http';
import { type Socket, connect as tcpConnect } from 'node:net';
import { MemoryFanout } from '@parley/eventing';
import { CLOSE_CODES } from '@parley/protocol';
import {
  createLogger,
  createTokenService,
  serviceClient,
  type TokenService,
} from '@parley/runtime';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GatewayLimitsSchema } from './config';
import { type Gateway, RESERVE_CONNECTIONS, startGateway } from './server';

const tokens = createTokenService('x'.repeat(32));
const stub = (app: Hono) => serviceClient('http://stub.test', async (r) => app.fetch(r));
const rooms = new Hono().get('/internal/users/:id/room-ids', (c) => c.json({ roomIds: [] }));
// Every user a token names exists.
const users = new Hono().get('/internal/users', (c) =>
  c.json({
    users: (c.req.query('ids') ?? '')
      .split(',')
      .map((id) => ({ id, username: id, displayName: id })),
  }),
);
const nothing = new Hono();

const running: Gateway[] = [];
const opened: { close(): void }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) o.close();
  await Promise.all(running.splice(0).map((g) => g.drain()));
});

async function gateway(env: Record<string, string> = {}, over: { tokens?: TokenService } = {}) {
  const g = await startGateway(
    {
      tokens: over.tokens ?? tokens,
      commands: { emit: async () => undefined },
      fanout: new MemoryFanout(),
      isMember: async () => true,
      users: stub(users),
      rooms: stub(rooms),
      notifications: stub(new Hono()),
      messages: stub(nothing),
      search: stub(nothing),
      log: createLogger('test', 'silent'),
      registry: new Registry(),
      limits: GatewayLimitsSchema.parse({ DRAIN_TIMEOUT_MS: '200', ...env }),
      allowedOrigins: [],
    },
    { port: 0, host: '127.0.0.1' },
  );
  running.push(g);
  return { g, ws: `${g.url.replace(/^http/, 'ws')}/ws` };
}

const tokenOf = (userId: string) => tokens.sign({ id: userId, username: userId });

/** Opens a WebSocket; resolves with it once `ready` came, or with the status it was refused with. */
function open(
  url: string,
  opts: { protocols?: string[]; headers?: Record<string, string>; autoPong?: boolean } = {},
): Promise<{ ws: WebSocket; status: number; protocol?: string; body?: string }> {
  const ws = new WebSocket(url, opts.protocols ?? [], {
    headers: opts.headers ?? {},
    autoPong: opts.autoPong ?? true,
  });
  opened.push({ close: () => ws.terminate() });
  return new Promise((resolve, reject) => {
    ws.once('upgrade', (res) => {
      const protocol = res.headers['sec-websocket-protocol'];
      ws.once('message', () => resolve({ ws, status: 101, ...(protocol ? { protocol } : {}) }));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ ws, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}

const closed = (ws: WebSocket) =>
  new Promise<number>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(-1);
    ws.once('close', (code) => resolve(code));
  });

/** A plain HTTP GET on its own connection. */
function get(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw TCP connection to the gateway that sends what it is told, and resolves `ended` when the server closes it. */
async function rawConnection(base: string): Promise<{ socket: Socket; ended: Promise<string> }> {
  const { hostname, port } = new URL(base);
  const socket = tcpConnect(Number(port), hostname);
  opened.push({ close: () => socket.destroy() });
  let got = '';
  socket.on('data', (d) => {
    got += d.toString();
  });
  const ended = new Promise<string>((resolve) => socket.once('close', () => resolve(got)));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, ended };
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

describe('the WebSocket handshake', () => {
  it('refuses a client that offers only bearer.<token> (400), never echoing the token', async () => {
    const { ws } = await gateway();
    const token = await tokenOf('u_a');
    const refused = await open(ws, { protocols: [`bearer.${token}`] });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body ?? '')).toMatchObject({ error: { code: 'bad_request' } });
    expect(refused.body).toContain('parley.v1');
    expect(refused.body).not.toContain(token);
  });

  it('selects parley.v1 next to bearer.<token>, in either order', async () => {
    const { ws } = await gateway();
    const token = await tokenOf('u_a');
    for (const protocols of [
      ['parley.v1', `bearer.${token}`],
      [`bearer.${token}`, 'parley.v1'],
    ]) {
      const ok = await open(ws, { protocols });
      expect(ok).toMatchObject({ status: 101, protocol: 'parley.v1' });
    }
  });

  it('refuses a handshake that is not settled within HANDSHAKE_TIMEOUT_MS (503)', async () => {
    const hanging: TokenService = { ...tokens, verify: () => new Promise(() => undefined) };
    const { ws } = await gateway({ HANDSHAKE_TIMEOUT_MS: '50' }, { tokens: hanging });
    const r = await open(`${ws}?token=whatever`);
    expect(r.status).toBe(503);
  });

  it('closes a socket that sends a text frame of invalid UTF-8 with 1007, a documented close code', async () => {
    const { ws } = await gateway();
    const { ws: socket } = await open(`${ws}?token=${await tokenOf('u_a')}`);
    const code = closed(socket);
    socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await code).toBe(1007);
    expect(CLOSE_CODES.invalidPayload.code).toBe(1007);
  });
});

describe('token expiry', () => {
  it('closes a socket whose token expires while it is connected (4001), and no other', async () => {
    const { g, ws } = await gateway();
    // Signed with the gateway's secret, valid for 2 s; the other for a day.
    const shortLived = await createTokenService('x'.repeat(32), 2).sign({
      id: 'u_a',
      username: 'u_a',
    });
    const expiring = await open(`${ws}?token=${shortLived}`);
    const lasting = await open(`${ws}?token=${await tokenOf('u_b')}`);
    expect([expiring.status, lasting.status]).toEqual([101, 101]);
    expect(await closed(expiring.ws)).toBe(CLOSE_CODES.tokenExpired.code);
    expect(CLOSE_CODES.tokenExpired.code).toBe(4001);
    expect(lasting.ws.readyState).toBe(WebSocket.OPEN);
    await until(() => g.hub.sessionCount === 1);
  });
});

describe('connection caps', () => {
  it('refuses a user’s WebSocket past MAX_SOCKETS_PER_USER (429), and takes one again once a socket closes', async () => {
    const { ws } = await gateway({ MAX_SOCKETS_PER_USER: '2' });
    const url = `${ws}?token=${await tokenOf('u_a')}`;
    const [a, b] = [await open(url), await open(url)];
    expect([a.status, b.status]).toEqual([101, 101]);
    const third = await open(url);
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body ?? '')).toMatchObject({ error: { code: 'rate_limited' } });
    expect((await open(`${ws}?token=${await tokenOf('u_b')}`)).status).toBe(101);
    const gone = closed(a.ws);
    a.ws.close();
    await gone;
    let again = await open(url);
    // The slot is given back when the TCP connection closes, right after the close handshake.
    while (again.status === 429) again = await open(url);
    expect(again.status).toBe(101);
  });

  it('refuses WebSockets from one client address past MAX_SOCKETS_PER_ADDRESS (429)', async () => {
    const { ws } = await gateway({ MAX_SOCKETS_PER_ADDRESS: '2', TRUSTED_PROXY_HOPS: '1' });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    const statuses = [];
    for (const [user, address] of [
      ['u_a', '203.0.113.1'],
      ['u_b', '203.0.113.1'],
      ['u_c', '203.0.113.1'],
      ['u_d', '203.0.113.2'],
    ] as const)
      statuses.push((await open(`${ws}?token=${await tokenOf(user)}`, from(address))).status);
    expect(statuses).toEqual([101, 101, 429, 101]);
  });

  it('counts the IPv6 addresses of one /64 as one client address', async () => {
    const { ws } = await gateway({ MAX_SOCKETS_PER_ADDRESS: '2', TRUSTED_PROXY_HOPS: '1' });
    const statuses = [];
    for (const [user, address] of [
      ['u_a', '2001:db8:1:2::a'],
      ['u_b', '2001:db8:1:2:ffff::b'],
      ['u_c', '2001:db8:1:2::c'],
      ['u_d', '2001:db8:1:3::a'],
    ] as const) {
      const headers = { 'x-forwarded-for': address };
      statuses.push((await open(`${ws}?token=${await tokenOf(user)}`, { headers })).status);
    }
    expect(statuses).toEqual([101, 101, 429, 101]);
  });

  it('past MAX_CONNECTIONS keeps answering the probes (readyz: 503) and refuses the rest with 503', async () => {
    const { g, ws } = await gateway({ MAX_CONNECTIONS: '3', HTTP_HEADERS_TIMEOUT_MS: '60000' });
    const idle = await Promise.all([1, 2, 3].map(() => rawConnection(g.url)));
    expect((await get(g.url, '/healthz')).status).toBe(200);
    expect((await get(g.url, '/readyz')).status).toBe(503);
    const api = await get(g.url, '/api/v1/me');
    expect(api.status).toBe(503);
    expect(JSON.parse(api.body)).toMatchObject({ error: { code: 'unavailable' } });
    expect((await open(`${ws}?token=${await tokenOf('u_a')}`)).status).toBe(503);
    // Past the reserve too, Node closes a new connection at once: no file descriptor is held.
    const reserve = await Promise.all(
      Array.from({ length: RESERVE_CONNECTIONS }, () => rawConnection(g.url)),
    );
    const extra = await rawConnection(g.url);
    expect(await extra.ended).toBe('');
    for (const c of [...idle, ...reserve]) c.socket.destroy();
    await Promise.all([...idle, ...reserve].map((c) => c.ended));
    let ready = await get(g.url, '/readyz');
    while (ready.status !== 200) ready = await get(g.url, '/readyz');
    expect(ready.status).toBe(200);
  });
});

describe('the heartbeat', () => {
  it('drops a socket that answers no ping, and forgets it (hub, caps)', async () => {
    const { g, ws } = await gateway({ HEARTBEAT_INTERVAL_MS: '30', MAX_SOCKETS_PER_USER: '1' });
    const url = `${ws}?token=${await tokenOf('u_a')}`;
    const { ws: silent } = await open(url, { autoPong: false });
    expect(await closed(silent)).toBe(1006);
    await until(() => g.hub.sessionCount === 0);
    expect((await open(url)).status).toBe(101);
  });

  it('keeps a socket that answers the pings, past several intervals and the HTTP request timeout', async () => {
    const { g, ws } = await gateway({
      HEARTBEAT_INTERVAL_MS: '30',
      HTTP_HEADERS_TIMEOUT_MS: '50',
      HTTP_REQUEST_TIMEOUT_MS: '60',
    });
    const { ws: alive } = await open(`${ws}?token=${await tokenOf('u_a')}`);
    let pings = 0;
    alive.on('ping', () => pings++);
    await until(() => pings >= 10);
    expect(alive.readyState).toBe(WebSocket.OPEN);
    expect(g.hub.sessionCount).toBe(1);
  });
});

describe('HTTP timeouts', () => {
  it('closes a TCP connection that never sends a request', async () => {
    const { g } = await gateway({ HTTP_HEADERS_TIMEOUT_MS: '100' });
    const { ended } = await rawConnection(g.url);
    await ended;
  });

  it('answers 408 to a request whose body does not arrive within HTTP_REQUEST_TIMEOUT_MS', async () => {
    const { g } = await gateway({ HTTP_HEADERS_TIMEOUT_MS: '100', HTTP_REQUEST_TIMEOUT_MS: '150' });
    const { socket, ended } = await rawConnection(g.url);
    socket.write(
      'POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
        'content-length: 100\r\n\r\n{"user',
    );
    expect(await ended).toMatch(/^HTTP\/1\.1 408/);
  });
});
