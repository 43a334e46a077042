/**
 * Part 1 of bench:large-room: one real gateway (`startGateway`, a real port on
 * 127.0.0.1, real `ws` sockets) in this process, MEMBERS clients in a child
 * process (clients.ts), every client a member of one room whose member count
 * the gateway knows (MEMBERS, from the rooms stub's `memberCounts`, as at a
 * real session set-up). The rest of Parley is stubbed as in
 * connection-gateway/src/server.test.ts: every user exists, everyone's only
 * room is the large one, every read marker is 0, and the fan-out is a
 * MemoryFanout this process publishes on.
 *
 * The gateway sends a room's `message` frames first and its `unread` frames in
 * a second pass; in a room this large the pass goes at most once per
 * UNREAD_COALESCE_MS, the first after a quiet spell at once
 * (connection-gateway/src/ws/hub.ts). Two series:
 *
 * - **single messages**, one at a time, each published once the previous one's
 *   frames have all arrived and at least `gapMs` (more than the coalescing
 *   interval) after that, so each gets its own immediate unread pass. Per
 *   message: publish → the first and the last socket's `message` frame and
 *   `unread` frame (both processes read one system clock), this process's CPU
 *   from the publish until the clients report it delivered (the gateway's
 *   work: it is alone in this process), the CPU and time of the gateway's
 *   message pass and unread pass (timed on the Hub, passes.ts), and the bytes
 *   the gateway's TCP sockets wrote.
 * - **bursts**: `burstSize` messages published `burstIntervalMs` apart, after a
 *   quiet spell. The publishes are paced by a worker thread's clock, which
 *   writes a tick per message to a loopback TCP socket; this thread publishes
 *   a message per tick it reads, so the messages reach the gateway's event
 *   loop as Redis messages would, read from a socket between its timers: when
 *   the gateway is busy fanning out, they wait, and the event loop orders them
 *   and the unread pass's timer as it would in production. (Ticks sent with
 *   the worker's `postMessage` did not: in a trial run the MessagePort handed
 *   over every tick, also those arriving meanwhile, before the timer ran, and
 *   each burst got a single unread pass.) Per burst: this
 *   process's CPU from the first publish until every frame is in, the unread
 *   passes and the `unread` frames each member got, the count each member
 *   holds at the end (checked: the burst's last seq), and first publish →
 *   the last `message` / `unread` frame.
 *
 * Measuring starts 11 s after the last socket connected: every call the
 * gateway makes to the stubs at a session's set-up (three per session) arms
 * an `AbortSignal.timeout` of serviceClient's 10 s, which fires then even
 * though the call is long done; 30,000 of them cost this process
 * 100–200 ms CPU/s until the last has fired (found with a CPU profile). The
 * CPU of a quiet second after that is recorded as the floor under every
 * window measured here.
 *
 * With `unread: false` the notifications stub answers 404, so no user's
 * markers are loaded and the gateway sends `message` frames only (its unread
 * pass still runs and skips every session): the same fan-out without unread
 * counts, for the ratios.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GatewayLimitsSchema } from '@parley/connection-gateway/config';
import { type Gateway, startGateway } from '@parley/connection-gateway/server';
import { MemoryFanout, roomChannel } from '@parley/eventing';
import { REPO_ROOT } from '@parley/launcher/infra';
import { createLogger, createTokenService, serviceClient } from '@parley/runtime';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { UNTHROTTLED_GATEWAY_ENV } from '../../src/bench-env';
import type { FromClients, ToClients } from './clients';
import { sumPasses, timePasses } from './passes';
import {
  BenchFailure,
  cpuMsSince,
  memberId,
  ROOM_ID,
  roomMessage,
  round,
  sharedNow,
  summary,
} from './shared';

export interface GatewayFanoutOptions {
  members: number;
  /** Measured single messages. */
  messages: number;
  /** Single messages published first and not counted (the gateway's code paths get compiled). */
  warmup: number;
  /** Quiet time between a round's last frame and the next publish (> UNREAD_COALESCE_MS). */
  gapMs: number;
  /** Bursts, each of `burstSize` messages `burstIntervalMs` apart. */
  bursts: number;
  burstSize: number;
  burstIntervalMs: number;
  /** Whether the members' read markers are loaded (unread frames follow the message frames). */
  unread: boolean;
  /** Handshakes in flight at once. */
  concurrency: number;
  progress: (line: string) => void;
}

/** One single message as measured. */
interface Single {
  seq: number;
  toFirstMessageMs: number;
  toLastMessageMs: number;
  toFirstUnreadMs: number;
  toLastUnreadMs: number;
  /** Publish → the start of the gateway's unread pass. */
  toUnreadPassMs: number;
  gatewayCpuMs: number;
  messagePassCpuMs: number;
  messagePassWallMs: number;
  unreadPassCpuMs: number;
  unreadPassWallMs: number;
  clientCpuMs: number;
  frames: number;
  payloadBytes: number;
  wireBytes: number;
}

/** One burst as measured. */
interface Burst {
  from: number;
  to: number;
  gatewayCpuMs: number;
  messagePassesCpuMs: number;
  unreadPasses: number;
  unreadPassesCpuMs: number;
  /** The seq each unread pass carried (the count of the members). */
  unreadPassSeqs: number[];
  /** First publish → the start of each message pass and of each unread pass. */
  messagePassAtMs: number[];
  unreadPassAtMs: number[];
  unreadFramesPerMember: number;
  /** First publish → the last socket's last `message` frame / last `unread` frame. */
  toLastMessageMs: number;
  toLastUnreadMs: number;
  /** Per message: when it was due (the clock's tick) → its last `message` frame. */
  tickToLastMessageMs: number[];
  /** The most a publish waited behind the gateway's work after its tick. */
  maxPublishLagMs: number;
  clientCpuMs: number;
  frames: number;
  payloadBytes: number;
  wireBytes: number;
}

/** The member who sends every message. */
const SENDER_INDEX = 0;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** The child and what it says, one message at a time. */
class ClientsProcess {
  private readonly queue: FromClients[] = [];
  private waiting: ((m: FromClients) => void) | undefined;
  private exitCode: number | null | undefined;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromClients) => {
      if (m.type === 'progress') return;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else this.queue.push(m);
    });
    child.on('exit', (code) => {
      this.exitCode = code;
      this.waiting?.({ type: 'failed', reason: `the clients process exited (${code})` });
    });
  }

  send(m: ToClients): void {
    this.child.send(m);
  }

  /** The next message of `type`; throws if the clients failed or it takes longer than `timeoutMs`. */
  async next<T extends FromClients['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<FromClients, { type: T }>> {
    const m =
      this.queue.shift() ??
      (this.exitCode !== undefined
        ? ({ type: 'failed', reason: `the clients process exited (${this.exitCode})` } as const)
        : await new Promise<FromClients>((resolve) => {
            const t = setTimeout(
              () => resolve({ type: 'failed', reason: `no ${type} within ${timeoutMs} ms` }),
              timeoutMs,
            );
            this.waiting = (msg) => {
              clearTimeout(t);
              resolve(msg);
            };
          }));
    if (m.type === 'failed') throw new BenchFailure(`part 1 clients: ${m.reason}`);
    if (m.type !== type)
      throw new BenchFailure(`part 1: expected ${type} from the clients, got ${m.type}`);
    return m as Extract<FromClients, { type: T }>;
  }

  /** Asks the child to close its sockets and exit; kills it if it does not within a few seconds. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.send({ type: 'close' });
    } catch {
      // the channel is gone already
    }
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * A clock on its own thread: on `go`, writes `count` ticks `intervalMs` apart to a TCP socket (each
 * at start + i × interval, so a late one does not delay the next; each the 8-byte time it was
 * written), whatever the gateway's thread is busy with.
 */
const CLOCK = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const now = () => performance.timeOrigin + performance.now();
const socket = net.connect(workerData.port, '127.0.0.1', () => parentPort.postMessage('connected'));
socket.setNoDelay(true);
parentPort.on('message', ({ count, intervalMs }) => {
  const start = now();
  let i = 0;
  const tick = () => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(now());
    socket.write(b);
    if (++i < count) setTimeout(tick, start + i * intervalMs - now());
  };
  tick();
});
`;

/** Starts the clock and the socket it writes its ticks to; `onTick` gets each tick's time. */
async function startClock(onTick: (at: number) => void) {
  let pending: Buffer = Buffer.alloc(0);
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let i = 0;
      for (; i + 8 <= pending.length; i += 8) onTick(pending.readDoubleLE(i));
      pending = pending.subarray(i);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const worker = new Worker(CLOCK, { eval: true, workerData: { port } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    go: (count: number, intervalMs: number) => worker.postMessage({ count, intervalMs }),
    async stop() {
      await worker.terminate();
      server.close();
    },
  };
}

async function gatewayWithStubs(
  members: number,
  unread: boolean,
  secret: string,
  fanout: MemoryFanout,
) {
  const stub = (app: Hono) => serviceClient('http://stub.bench', async (r) => app.fetch(r));
  // Every user a token names exists.
  const users = new Hono().get('/internal/users', (c) =>
    c.json({
      users: (c.req.query('ids') ?? '')
        .split(',')
        .map((id) => ({ id, username: id, displayName: id })),
    }),
  );
  // The room's member count as the rooms function gives it: the gateway's Hub takes the room as large.
  const rooms = new Hono().get('/internal/users/:id/room-ids', (c) =>
    c.json({ roomIds: [ROOM_ID], memberCounts: { [ROOM_ID]: members } }),
  );
  // Without unread: 404, which the gateway takes as "no markers" (no unread frames for the user).
  const notifications = unread
    ? new Hono().get('/internal/users/:id/markers', (c) => c.json({ markers: { [ROOM_ID]: 0 } }))
    : new Hono();
  const nothing = new Hono();
  const room = String(members + 100);
  return startGateway(
    {
      tokens: createTokenService(secret),
      commands: { emit: async () => undefined },
      fanout,
      isMember: async () => true,
      users: stub(users),
      rooms: stub(rooms),
      notifications: stub(notifications),
      messages: stub(nothing),
      search: stub(nothing),
      // Errors only: stdout carries --json, and an error logged here means the run is broken.
      log: createLogger('bench-gateway', 'error'),
      registry: new Registry(),
      limits: GatewayLimitsSchema.parse({
        ...UNTHROTTLED_GATEWAY_ENV,
        MAX_SOCKETS_PER_ADDRESS: room,
        MAX_CONNECTIONS: room,
        HANDSHAKE_TIMEOUT_MS: '60000',
        // No heartbeat pings and no presence beats inside the measurement (one ping round would
        // be 10,000 frames); both are per socket / per gateway, not per message.
        HEARTBEAT_INTERVAL_MS: '3600000',
        PRESENCE_TTL_MS: '3600000',
        DRAIN_TIMEOUT_MS: '2000',
      }),
      allowedOrigins: [],
    },
    { port: 0, host: '127.0.0.1' },
  );
}

/** Runs part 1 once (with or without unread frames) and returns its numbers. */
export async function gatewayFanout(opts: GatewayFanoutOptions) {
  const secret = randomBytes(24).toString('hex');
  const n = opts.members;
  // What message-write's publish through Redis would be: the gateway's own fan-out.
  const fanout = new MemoryFanout();
  /** What to do with a tick of the clock (a burst sets it). */
  let onTick: (at: number) => void = () => {
    throw new BenchFailure('part 1: a tick outside a burst');
  };
  const clock = await startClock((at) => onTick(at));
  const g: Gateway = await gatewayWithStubs(n, opts.unread, secret, fanout).catch(async (err) => {
    await clock.stop();
    throw err;
  });
  const passes = timePasses(g.hub);
  // The gateway's TCP sockets, for the bytes it writes per message.
  const tcp = new Set<Socket>();
  g.server.on('connection', (s: Socket) => {
    tcp.add(s);
    s.once('close', () => tcp.delete(s));
  });
  const written = () => {
    let b = 0;
    for (const s of tcp) b += s.bytesWritten;
    return b;
  };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./clients.ts', import.meta.url))],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, LARGE_ROOM_JWT_SECRET: secret },
    },
  );
  const clients = new ClientsProcess(child);
  const sender = memberId(SENDER_INDEX);
  const publish = (seq: number) =>
    fanout.publish(roomChannel(ROOM_ID), { kind: 'message', message: roomMessage(seq, sender) });
  try {
    const wsUrl = `${g.url.replace(/^http/, 'ws')}/ws`;
    clients.send({
      type: 'start',
      url: wsUrl,
      members: n,
      concurrency: opts.concurrency,
      senderIndex: SENDER_INDEX,
      unread: opts.unread,
    });
    const connected = await clients.next('connected', 600_000);
    if (g.hub.sessionCount !== n)
      throw new BenchFailure(`part 1: ${g.hub.sessionCount} sessions, expected ${n}`);
    const size = g.hub.roomsOfUser(sender).get(ROOM_ID);
    if (size !== n) throw new BenchFailure(`part 1: the hub takes the room for ${size} members`);
    opts.progress(
      `  ${connected.connected} sockets ready in ${connected.seconds.toFixed(1)} s; publishing…`,
    );
    // Let the set-up's leftovers (the stub calls' 10 s abort timers, presence, closed handshakes)
    // run out before measuring; then this process's CPU over a quiet second, the floor under
    // every window measured below.
    await sleep(11_000);
    const idle0 = process.cpuUsage();
    const idleT0 = performance.now();
    await sleep(1_000);
    const idleCpuMsPerSecond = (1000 * cpuMsSince(idle0)) / (performance.now() - idleT0);
    let lastDone = performance.now();
    let seq = 0;

    // ── single messages ───────────────────────────────────────────────
    const singles: Single[] = [];
    for (let k = 1; k <= opts.warmup + opts.messages; k++) {
      await sleep(lastDone + opts.gapMs - performance.now());
      seq++;
      clients.send({ type: 'round', from: seq, to: seq });
      passes.reset();
      const bytes0 = written();
      const cpu0 = process.cpuUsage();
      const t0 = sharedNow();
      await publish(seq);
      const d = await clients.next('delivered', 60_000);
      // Without unread frames the clients cannot see the unread pass (it skips every session):
      // wait the moment it may take to run, so its cost is in this message's like the other's.
      for (let t = 0; passes.unread.length === 0 && t < 1_000; t++) await sleep(1);
      const gatewayCpuMs = cpuMsSince(cpu0);
      lastDone = performance.now();
      if (d.to !== seq) throw new BenchFailure(`part 1: delivered ${d.to}, expected ${seq}`);
      // One message pass, and one unread pass of its own: the previous one is over gapMs ago.
      const [mp, up] = [passes.message, passes.unread];
      if (mp.length !== 1 || up.length !== 1 || !mp[0] || !up[0])
        throw new BenchFailure(
          `part 1: seq ${seq}: ${mp.length} message passes, ${up.length} unread passes (expected 1 and 1)`,
        );
      const expectedUnread = opts.unread ? n : 0;
      if (d.messageFrames !== n || d.unreadFrames !== expectedUnread)
        throw new BenchFailure(
          `part 1: seq ${seq}: ${d.messageFrames} message and ${d.unreadFrames} unread frames`,
        );
      const m = d.messages[0];
      if (!m) throw new BenchFailure(`part 1: seq ${seq}: no delivery times`);
      const u = d.unreadPasses[0];
      if (k > opts.warmup)
        singles.push({
          seq,
          toFirstMessageMs: m.firstMessageAt - t0,
          toLastMessageMs: m.lastMessageAt - t0,
          toFirstUnreadMs: u ? u.firstAt - t0 : Number.NaN,
          toLastUnreadMs: u ? u.lastAt - t0 : Number.NaN,
          toUnreadPassMs: up[0].at - t0,
          gatewayCpuMs,
          messagePassCpuMs: mp[0].cpuMs,
          messagePassWallMs: mp[0].wallMs,
          unreadPassCpuMs: up[0].cpuMs,
          unreadPassWallMs: up[0].wallMs,
          clientCpuMs: d.clientCpuMs,
          frames: d.messageFrames + d.unreadFrames,
          payloadBytes: d.payloadBytes,
          wireBytes: written() - bytes0,
        });
    }
    opts.progress(`  ${opts.messages} single messages; ${opts.bursts} bursts…`);

    // ── bursts ──────────────────────────────────────────────────────
    const bursts: Burst[] = [];
    for (let b = 0; b < opts.bursts; b++) {
      await sleep(lastDone + opts.gapMs - performance.now());
      const from = seq + 1;
      const to = seq + opts.burstSize;
      clients.send({ type: 'round', from, to });
      passes.reset();
      const ticks: { due: number; published: number }[] = [];
      const published: Promise<void>[] = [];
      onTick = (at) => {
        const s = from + ticks.length;
        if (s > to) throw new BenchFailure(`part 1: a tick too many in burst ${from}–${to}`);
        ticks.push({ due: at, published: sharedNow() });
        published.push(publish(s));
      };
      const bytes0 = written();
      const cpu0 = process.cpuUsage();
      clock.go(opts.burstSize, opts.burstIntervalMs);
      const d = await clients.next('delivered', 120_000);
      const gatewayCpuMs = cpuMsSince(cpu0);
      lastDone = performance.now();
      await Promise.all(published);
      seq = to;
      if (d.from !== from || d.to !== to || ticks.length !== opts.burstSize)
        throw new BenchFailure(
          `part 1: burst ${from}–${to}: delivered ${d.from}–${d.to} after ${ticks.length} ticks`,
        );
      const mp = passes.message;
      const up = passes.unread;
      if (mp.length !== opts.burstSize)
        throw new BenchFailure(`part 1: burst ${from}–${to}: ${mp.length} message passes`);
      // Every unread pass reaches every member once: the frames each got are the passes. Without
      // unread frames the last pass (which skips every session) may still be to come: not counted.
      const perMember = d.unreadFramesPerSocket;
      const expectedPerMember = opts.unread ? up.length : 0;
      if (perMember.min !== expectedPerMember || perMember.max !== expectedPerMember)
        throw new BenchFailure(
          `part 1: burst ${from}–${to}: ${perMember.min}–${perMember.max} unread frames per member, ${up.length} passes`,
        );
      if (d.messageFrames !== n * opts.burstSize || d.unreadFrames !== n * expectedPerMember)
        throw new BenchFailure(
          `part 1: burst ${from}–${to}: ${d.messageFrames} message and ${d.unreadFrames} unread frames`,
        );
      const first = ticks[0]?.published ?? Number.NaN;
      const lastMessage = d.messages[d.messages.length - 1];
      const lastPass = d.unreadPasses[d.unreadPasses.length - 1];
      bursts.push({
        from,
        to,
        gatewayCpuMs,
        messagePassesCpuMs: sumPasses(mp).cpuMs,
        unreadPasses: up.length,
        unreadPassesCpuMs: sumPasses(up).cpuMs,
        unreadPassSeqs: d.unreadPasses.map((p) => p.seq),
        messagePassAtMs: mp.map((p) => p.at - first),
        unreadPassAtMs: up.map((p) => p.at - first),
        unreadFramesPerMember: expectedPerMember,
        toLastMessageMs: (lastMessage?.lastMessageAt ?? Number.NaN) - first,
        toLastUnreadMs: lastPass ? lastPass.lastAt - first : Number.NaN,
        tickToLastMessageMs: d.messages.map((m, i) => m.lastMessageAt - (ticks[i]?.due ?? 0)),
        maxPublishLagMs: Math.max(...ticks.map((t) => t.published - t.due)),
        clientCpuMs: d.clientCpuMs,
        frames: d.messageFrames + d.unreadFrames,
        payloadBytes: d.payloadBytes,
        wireBytes: written() - bytes0,
      });
    }
    // Nothing more may come: after a quiet spell, every socket still holds the last seq and count.
    await sleep(lastDone + opts.gapMs - performance.now());
    clients.send({ type: 'verify', seq });
    await clients.next('verified', 30_000);

    const col = (f: (s: Single) => number) => singles.map(f);
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
    const bcol = (f: (b: Burst) => number) => bursts.map(f);
    return {
      unreadFrames: opts.unread,
      members: n,
      connectSeconds: round(connected.seconds),
      /** This process's CPU while nothing is published (timers, GC): part of every window below. */
      idleCpuMsPerSecond: round(idleCpuMsPerSecond),
      single: {
        messages: opts.messages,
        warmup: opts.warmup,
        gapMs: opts.gapMs,
        toFirstMessageFrameMs: summary(col((s) => s.toFirstMessageMs)),
        toLastMessageFrameMs: summary(col((s) => s.toLastMessageMs)),
        /** Publish → the start of the gateway's unread pass (after the whole message pass). */
        toUnreadPassMs: summary(col((s) => s.toUnreadPassMs)),
        toFirstUnreadFrameMs: opts.unread ? summary(col((s) => s.toFirstUnreadMs)) : null,
        toLastUnreadFrameMs: opts.unread ? summary(col((s) => s.toLastUnreadMs)) : null,
        gatewayCpuMsPerMessage: summary(col((s) => s.gatewayCpuMs)),
        messagePassCpuMs: summary(col((s) => s.messagePassCpuMs)),
        messagePassWallMs: summary(col((s) => s.messagePassWallMs)),
        unreadPassCpuMs: summary(col((s) => s.unreadPassCpuMs)),
        unreadPassWallMs: summary(col((s) => s.unreadPassWallMs)),
        gatewayCpuUsPerFrame: round(
          (1000 * sum(col((s) => s.gatewayCpuMs))) / sum(col((s) => s.frames)),
        ),
        /** The clients' CPU per message (the child process), which competed for the same cores. */
        clientCpuMsPerMessage: summary(col((s) => s.clientCpuMs)),
        framesPerMessage: singles[0]?.frames ?? 0,
        /** Payload and wire bytes vary by a byte per frame with the digits of seq: means. */
        payloadBytesPerMessage: summary(col((s) => s.payloadBytes)),
        wireBytesPerMessage: summary(col((s) => s.wireBytes)),
        perMessage: singles.map((s) => ({
          seq: s.seq,
          lastMessageMs: round(s.toLastMessageMs),
          unreadPassMs: round(s.toUnreadPassMs),
          lastUnreadMs: round(s.toLastUnreadMs),
          cpuMs: round(s.gatewayCpuMs),
          messagePassCpuMs: round(s.messagePassCpuMs),
          unreadPassCpuMs: round(s.unreadPassCpuMs),
          clientCpuMs: round(s.clientCpuMs),
        })),
      },
      burst: {
        bursts: opts.bursts,
        size: opts.burstSize,
        intervalMs: opts.burstIntervalMs,
        gatewayCpuMsPerBurst: summary(bcol((b) => b.gatewayCpuMs)),
        messagePassesCpuMsPerBurst: summary(bcol((b) => b.messagePassesCpuMs)),
        unreadPassesCpuMsPerBurst: summary(bcol((b) => b.unreadPassesCpuMs)),
        unreadFramesPerMember: summary(bcol((b) => b.unreadFramesPerMember)),
        messageFramesPerMember: opts.burstSize,
        toLastMessageFrameMs: summary(bcol((b) => b.toLastMessageMs)),
        toLastUnreadFrameMs: opts.unread ? summary(bcol((b) => b.toLastUnreadMs)) : null,
        clientCpuMsPerBurst: summary(bcol((b) => b.clientCpuMs)),
        wireBytesPerBurst: summary(bcol((b) => b.wireBytes)),
        /** Checked at the end of every burst: each member holds the burst's last seq as its count. */
        finalCountChecked: true,
        perBurst: bursts.map((b) => ({
          seqs: `${b.from}-${b.to}`,
          cpuMs: round(b.gatewayCpuMs),
          messagePassesCpuMs: round(b.messagePassesCpuMs),
          unreadPasses: b.unreadPasses,
          unreadPassSeqs: b.unreadPassSeqs,
          messagePassAtMs: b.messagePassAtMs.map(round),
          unreadPassAtMs: b.unreadPassAtMs.map(round),
          unreadPassesCpuMs: round(b.unreadPassesCpuMs),
          unreadFramesPerMember: b.unreadFramesPerMember,
          lastMessageMs: round(b.toLastMessageMs),
          lastUnreadMs: round(b.toLastUnreadMs),
          tickToLastMessageMs: b.tickToLastMessageMs.map(round),
          maxPublishLagMs: round(b.maxPublishLagMs),
          clientCpuMs: round(b.clientCpuMs),
          frames: b.frames,
          wireBytes: b.wireBytes,
        })),
      },
    };
  } finally {
    await clients.stop();
    await clock.stop();
    await g.drain();
  }
}
