/**
 * Hostile clients against the real stack (issue 10): the attacks of the
 * review, each with what must hold afterwards. No timing assertion: budgets
 * are checked as bytes against the budget's own formula over the measured
 * time, and a victim's pings as answered or not.
 */
import { randomBytes } from 'node:crypto';
import { type Account, Api, HttpError, WsClient } from '@parley/perf/client';
import type { ServerFrame } from '@parley/protocol';
import { createTokenService } from '@parley/runtime';
import WebSocket from 'ws';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw socket of `token` that counts what it receives. */
function rawSocket(url: string, token: string) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`);
  const seen = { bytes: 0, frames: 0, rateLimited: 0, closed: undefined as number | undefined };
  ws.on('message', (data: Buffer) => {
    seen.bytes += data.length;
    seen.frames++;
    const f = JSON.parse(data.toString()) as ServerFrame;
    if (f.type === 'error' && f.code === 'rate_limited') seen.rateLimited++;
  });
  ws.on('close', (code) => {
    seen.closed = code;
  });
  ws.on('error', () => undefined);
  const open = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_q, res) => reject(new HttpError(res.statusCode ?? 0, null)));
    ws.once('error', reject);
  });
  return { ws, seen, open };
}

export interface AmplificationOutcome {
  seconds: number;
  attackerBytes: number;
  /** What the budget allows over that time: burst + rate × seconds (+ one frame of slack). */
  budgetBytes: number;
  rateLimited: number;
  victimPings: number;
  victimPongs: number;
}

/**
 * One user with a room of `messages` × 4,000 characters syncs it from `sockets` sockets,
 * `rate` times a second each, for `seconds`; a second user pings every 100 ms meanwhile.
 */
export async function syncAmplification(
  baseUrl: string,
  opts: { messages: number; sockets: number; rate: number; seconds: number },
): Promise<AmplificationOutcome> {
  const api = new Api(baseUrl);
  const owner = await api.signup('amp');
  const victim = await api.signup('victim');
  const { room } = await api.call<{ room: { id: string } }>('POST', '/api/v1/rooms', {
    token: owner.token,
    body: { name: 'amplified' },
  });
  // Fill the room: big messages, one at a time (the send budget is the owner's too).
  const writer = await WsClient.connect(api, owner.token);
  for (let i = 1; i <= opts.messages; i++) {
    const clientMsgId = `fill-${i}`;
    writer.send({ type: 'send', roomId: room.id, clientMsgId, body: `${i} `.padEnd(4000, 'x') });
    await writer.next((f) => f.type === 'ack' && f.clientMsgId === clientMsgId, 30_000);
  }
  writer.close();
  // The victim, in a room of its own, pings.
  const v = await WsClient.connect(api, victim.token);
  const sockets = Array.from({ length: opts.sockets }, () => rawSocket(baseUrl, owner.token));
  await Promise.all(sockets.map((s) => s.open));
  // Let `ready` arrive before counting.
  await sleep(500);
  for (const s of sockets) s.seen.bytes = 0;
  const t0 = Date.now();
  let pings = 0;
  const pinger = setInterval(() => {
    pings++;
    v.send({ type: 'ping', ref: `p${pings}` });
  }, 100);
  const spam = setInterval(() => {
    for (const s of sockets)
      if (s.ws.readyState === WebSocket.OPEN)
        s.ws.send(JSON.stringify({ type: 'sync', rooms: { [room.id]: 0 } }));
  }, 1000 / opts.rate);
  await sleep(opts.seconds * 1000);
  clearInterval(spam);
  clearInterval(pinger);
  const seconds = (Date.now() - t0) / 1000;
  // Pings sent late in the attack still get their answer: wait for them.
  await v.waitForCount((f) => f.type === 'pong', pings, 30_000).catch(() => undefined);
  const pongs = v.frames.filter((f) => f.type === 'pong').length;
  for (const s of sockets) s.ws.terminate();
  v.close();
  const burst = 4 * 2 ** 20;
  const perSecond = 2 ** 20;
  return {
    seconds,
    attackerBytes: sockets.reduce((n, s) => n + s.seen.bytes, 0),
    // One sync answer of slack: a page that fits is sent whole.
    budgetBytes: burst + perSecond * (seconds + 1) + 1 * 2 ** 20,
    rateLimited: sockets.reduce((n, s) => n + s.seen.rateLimited, 0),
    victimPings: pings,
    victimPongs: pongs,
  };
}

/** Opens sockets for one user until one is refused; returns how many got through and the refusal. */
export async function socketsUntilRefused(
  baseUrl: string,
  account: Account,
  max: number,
): Promise<{ opened: number; refusedWith: number | undefined }> {
  const open: WebSocket[] = [];
  let refusedWith: number | undefined;
  for (let i = 0; i < max; i++) {
    const s = rawSocket(baseUrl, account.token);
    try {
      await s.open;
      open.push(s.ws);
    } catch (err) {
      refusedWith = err instanceof HttpError ? err.status : -1;
      break;
    }
  }
  for (const ws of open) ws.terminate();
  return { opened: open.length, refusedWith };
}

/** A token signed with the stack's key for a user that does not exist. */
export async function unknownUserToken(jwtSecret: string): Promise<string> {
  return createTokenService(jwtSecret).sign({
    id: `u_ghost${randomBytes(4).toString('hex')}`,
    username: 'ghost',
  });
}
