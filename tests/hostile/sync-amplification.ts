/**
 * The `sync` amplification attack of issue 10, item 1, as a repeatable measurement.
 *
 * One user owns a room of 200 messages of 4,000 characters. Ten sockets of that user each send
 * `{"type":"sync","rooms":{"<room>":0}}` 20 times a second (inside the per-socket frame limit),
 * and reconnect when closed. Meanwhile a second user pings on its own socket every 50 ms. It
 * reports the bytes the attacker received (what the gateway sent it), the victim's ping round
 * trips (p50, p99, max, and pings never answered) and the gateway's event-loop lag: a probe
 * preloaded into the gateway's process (`--import`) reports the maximum of
 * `monitorEventLoopDelay` every second on stderr; the largest seen during the attack is kept.
 * (With --url there is no probe, and no lag figure.)
 *
 * The gateway runs in its own process (the embedded mode, `launcher/src/embedded.ts`, on a free
 * port), the attacker in another, the victim in this one, so the figures are not one event
 * loop's. Only loopback; bounded in time; everything it starts is stopped at the end.
 *
 * Usage: npx tsx tests/hostile/sync-amplification.ts [--seconds 20] [--sockets 10] [--rate 20]
 *        [--url http://127.0.0.1:8080]   (attack a running gateway instead of starting one)
 * Extra environment for the started gateway is passed through (e.g. RATE_SYNC_BYTES_PER_SEC=…).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Api } from '@parley/perf/client';
import type { Room, ServerFrame } from '@parley/protocol';
import WebSocket from 'ws';

const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    seconds: { type: 'string', default: '20' },
    sockets: { type: 'string', default: '10' },
    rate: { type: 'string', default: '20' },
    messages: { type: 'string', default: '200' },
    url: { type: 'string' },
    token: { type: 'string' },
    room: { type: 'string' },
  },
});
const SECONDS = Math.min(120, Number(values.seconds));
const SOCKETS = Math.min(50, Number(values.sockets));
const RATE = Math.min(100, Number(values.rate));
const MESSAGES = Math.min(1000, Number(values.messages));

/** Preloaded into the gateway: prints the event loop's worst delay of each second. */
const LAG_PROBE = `
import { monitorEventLoopDelay } from 'node:perf_hooks';
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
setInterval(() => {
  process.stderr.write('parley-lag-max-ms=' + (h.max / 1e6).toFixed(1) + '\\n');
  h.reset();
}, 1000).unref();
`;
const LAG_LINE = /^parley-lag-max-ms=([0-9.]+)$/;

const wsUrl = (base: string, token: string) =>
  `${base.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

/** The attacker: SOCKETS sockets × RATE syncs a second for SECONDS; prints one JSON line. */
async function attacker(url: string, token: string, roomId: string): Promise<void> {
  const frame = JSON.stringify({ type: 'sync', rooms: { [roomId]: 0 } });
  const stats = {
    bytes: 0,
    frames: 0,
    syncFrames: 0,
    syncMessages: 0,
    errors: {} as Record<string, number>,
    closes: {} as Record<string, number>,
    handshakeRefusals: {} as Record<string, number>,
    connects: 0,
  };
  const deadline = Date.now() + SECONDS * 1000;
  const one = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(wsUrl(url, token));
        let timer: NodeJS.Timeout | undefined;
        ws.on('unexpected-response', (_req, res) => {
          const k = String(res.statusCode);
          stats.handshakeRefusals[k] = (stats.handshakeRefusals[k] ?? 0) + 1;
          ws.terminate();
        });
        ws.on('error', () => undefined);
        ws.on('open', () => {
          stats.connects++;
          timer = setInterval(() => {
            if (Date.now() >= deadline) ws.close();
            else if (ws.readyState === WebSocket.OPEN) ws.send(frame);
          }, 1000 / RATE);
        });
        ws.on('message', (data: Buffer) => {
          stats.bytes += data.byteLength;
          stats.frames++;
          // Only small frames are parsed: the point is to receive, not to spend CPU here.
          const head = data.subarray(0, 16).toString('latin1');
          if (head.startsWith('{"type":"sync"')) {
            stats.syncFrames++;
            stats.syncMessages += data.toString('latin1').split('"clientMsgId"').length - 1;
          } else if (data.byteLength < 2000) {
            const f = JSON.parse(data.toString()) as ServerFrame;
            if (f.type === 'error') stats.errors[f.code] = (stats.errors[f.code] ?? 0) + 1;
          }
        });
        ws.on('close', (code) => {
          clearInterval(timer);
          stats.closes[code] = (stats.closes[code] ?? 0) + 1;
          resolve();
        });
      });
      if (Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    }
  };
  await Promise.all(Array.from({ length: SOCKETS }, one));
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

async function startGateway(
  onLag: (ms: number) => void,
): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const lagProbe = `--import=data:text/javascript,${encodeURIComponent(LAG_PROBE)}`;
  const embedded = join(REPO, 'launcher', 'src', 'embedded.ts');
  const proc = spawn(process.execPath, ['--import', 'tsx', lagProbe, embedded], {
    cwd: REPO,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(32).toString('base64url'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let partial = '';
  proc.stderr?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = line.match(LAG_LINE);
      if (m) onLag(Number(m[1]));
      else process.stderr.write(`${line}\n`);
    }
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGTERM');
  throw new Error('the embedded gateway did not start');
}

/** Opens a socket and waits for `ready`. */
function connect(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(url, token));
    ws.once('error', reject);
    ws.on('message', function onReady(data: Buffer) {
      if ((JSON.parse(data.toString()) as ServerFrame).type !== 'ready') return;
      ws.off('message', onReady);
      resolve(ws);
    });
  });
}

/** Stores MESSAGES bodies of 4,000 characters, at most 20 in flight, resending refused ones. */
async function fillRoom(ws: WebSocket, roomId: string): Promise<void> {
  const body = (i: number) => `${i} `.padEnd(4000, 'x');
  let next = 0;
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    const send = (i: number) =>
      ws.send(JSON.stringify({ type: 'send', roomId, clientMsgId: `fill-${i}`, body: body(i) }));
    ws.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString()) as ServerFrame & { retryAfterMs?: number };
      if (f.type === 'ack') {
        if (++acked === MESSAGES) resolve();
        else if (next < MESSAGES) send(next++);
      } else if (f.type === 'error') {
        if (f.code !== 'rate_limited' || typeof f.ref !== 'string')
          return reject(new Error(JSON.stringify(f)));
        const i = Number(f.ref.slice(5));
        setTimeout(() => send(i), f.retryAfterMs ?? 1000);
      }
    });
    for (; next < Math.min(20, MESSAGES); next++) send(next);
  });
  ws.removeAllListeners('message');
}

async function main(): Promise<void> {
  let measuring = false;
  let lagMaxMs: number | undefined;
  /** The gateway's last few per-second lag figures, to start only once it is quiet. */
  const recentLag: number[] = [];
  const started = values.url
    ? undefined
    : await startGateway((ms) => {
        recentLag.push(ms);
        if (recentLag.length > 2) recentLag.shift();
        if (measuring) lagMaxMs = Math.max(lagMaxMs ?? 0, ms);
      });
  const url = values.url ?? (started?.url as string);
  try {
    const api = new Api(url);
    const [owner, victim] = await Promise.all([api.signup('amp_owner'), api.signup('amp_victim')]);
    const { room } = await api.call<{ room: Room }>('POST', '/api/v1/rooms', {
      token: owner.token,
      body: { name: 'amplifier' },
    });
    const filler = await connect(url, owner.token);
    await fillRoom(filler, room.id);
    filler.close();
    process.stderr.write(`room ${room.id}: ${MESSAGES} × 4000 characters stored\n`);
    // The embedded mode indexes those messages for search in the same process: wait (60 s at
    // most) until its event loop is quiet again, so the figures are the attack's.
    recentLag.length = 0;
    for (let i = 0; started && i < 600; i++) {
      if (recentLag.length === 2 && recentLag.every((ms) => ms < 100)) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const v = await connect(url, victim.token);
    const sentAt = new Map<number, number>();
    const rtts: number[] = [];
    v.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString()) as ServerFrame;
      if (f.type !== 'pong' || typeof f.ref !== 'number') return;
      const t0 = sentAt.get(f.ref);
      if (t0 === undefined) return;
      sentAt.delete(f.ref);
      rtts.push(performance.now() - t0);
    });
    measuring = true;
    let ref = 0;
    const pinger = setInterval(() => {
      sentAt.set(ref, performance.now());
      v.send(JSON.stringify({ type: 'ping', ref: ref++ }));
    }, 50);

    const t0 = performance.now();
    const atk = spawn(
      TSX,
      [
        fileURLToPath(import.meta.url),
        ...['--role', 'attacker', '--url', url, '--token', owner.token, '--room', room.id],
        ...['--seconds', String(SECONDS), '--sockets', String(SOCKETS), '--rate', String(RATE)],
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    atk.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise<void>((resolve) => atk.once('exit', () => resolve()));
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(pinger);
    // Pings still in flight get a moment to come back; the ones that do not are counted.
    await new Promise((r) => setTimeout(r, 2000));
    measuring = false;
    v.close();
    const attack = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { bytes: number };
    const ms = (x: number) => Math.round(x * 10) / 10;
    console.log(
      JSON.stringify(
        {
          seconds: ms(seconds),
          sockets: SOCKETS,
          syncsPerSocketPerSecond: RATE,
          roomMessages: MESSAGES,
          attacker: { ...attack, megabytes: ms(attack.bytes / 1e6) },
          victimPingMs: {
            count: rtts.length,
            unanswered: sentAt.size,
            p50: ms(percentile(rtts, 50)),
            p99: ms(percentile(rtts, 99)),
            max: ms(Math.max(...rtts)),
          },
          gatewayEventLoopLagMaxMs: lagMaxMs ?? null,
        },
        null,
        2,
      ),
    );
  } finally {
    if (started) {
      started.proc.kill('SIGTERM');
      await new Promise<void>((resolve) => started.proc.once('exit', () => resolve()));
    }
  }
}

if (values.role === 'attacker') {
  await attacker(values.url as string, values.token as string, values.room as string);
} else {
  await main();
}
