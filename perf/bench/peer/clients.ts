/**
 * The load clients of bench:peer, in a child process of their own so each server's CPU is read
 * alone from /proc: up to ~19,000 WebSockets (one file descriptor each, under the process's
 * limit) over the minimal client of wire.ts, spread over source addresses 127.1.x.y, at most
 * `perAddress` per address (the gateway's MAX_SOCKETS_PER_ADDRESS is 100 by default).
 *
 * Both servers get the same client and the same work per socket:
 * - Parley: `/ws?token=…`; ready at the gateway's `ready` frame (the user's rooms are subscribed).
 * - Centrifugo (JSON protocol): `/connection/websocket`, a `connect` command with the token, then a
 *   `subscribe` to the channel; ready at the subscribe reply. Its server pings (`{}`) are answered.
 *
 * A delivery is a publication's body inside any frame: `"body":"t=<send time>;…"` (both servers
 * carry the same message object; Centrifugo may batch several pushes into one frame, one a line).
 * Its latency is the time the TCP chunk that completed the frame was read minus the send time the
 * body carries, on the clock both processes share. Other frames (Parley's `unread`, pings) are
 * counted, not timed.
 *
 * Started by the bench (run.ts) with `node --import tsx` and an IPC channel; not run by hand.
 */
import { centrifugoToken, parleyToken } from './jwt';
import { percentileSummary, type Summary } from './stats';
import { sharedNow, WireSocket } from './wire';

export type ServerKind = 'parley' | 'centrifugo';

/** What the parent tells this process. */
export type ToClients =
  | {
      type: 'connect';
      kind: ServerKind;
      host: string;
      port: number;
      /** The HS256 secret both servers were given: tokens are signed here, per socket. */
      secret: string;
      /** User i is `${userPrefix}${i}`; the sockets of this call get the next `count` indexes. */
      userPrefix: string;
      /** Centrifugo's channel (Parley's room comes from its rooms stub). */
      channel: string;
      count: number;
      /** Handshakes in flight at once. */
      concurrency: number;
      perAddress: number;
    }
  /** Start counting deliveries; say `complete` once `expected` have arrived. */
  | { type: 'measure'; expected: number }
  | { type: 'report' }
  | { type: 'close' };

/** One publication as the sockets saw it (keyed by the send time its body carries). */
export interface MessageSeen {
  sentAt: number;
  deliveries: number;
  firstMs: number;
  lastMs: number;
}

export interface ConnectReport {
  type: 'connected';
  ready: number;
  failed: number;
  /** First ready-wanted → last ready (or failure), seconds. */
  seconds: number;
  /** connect() → ready, per socket. */
  handshakeMs: Summary;
  /** Up to five distinct failure reasons, with counts. */
  errors: Record<string, number>;
  /** Sockets open and ready now (over every connect call). */
  open: number;
}

export interface DeliveryReport {
  type: 'report';
  deliveries: number;
  /** Frames that carried no publication (Parley's `unread`, pings, replies). */
  otherFrames: number;
  latencyMs: Summary;
  messages: MessageSeen[];
  /** This process's CPU since `measure`. */
  clientCpuMs: number;
  /** Ready sockets that closed since `measure`, and why (the first few reasons). */
  dropped: number;
  dropReasons: Record<string, number>;
  open: number;
}

/** What this process tells the parent. */
export type FromClients =
  | { type: 'progress'; ready: number; failed: number; of: number }
  | ConnectReport
  | { type: 'complete'; at: number }
  | DeliveryReport
  | { type: 'failed'; reason: string }
  | { type: 'closed' };

const tell = (m: FromClients) => process.send?.(m);

/** Where a publication's send time starts inside a frame (the same for both servers). */
const MARK = Buffer.from('"body":"t=');
const SEMICOLON = 0x3b;
const DOT = 0x2e;
const NEWLINE = 0x0a;
/**
 * Whether a Centrifugo frame holds its ping: an empty JSON object on a line of its own (the
 * server batches replies and pushes into one frame, one a line). Unanswered, the server drops
 * the client after its pong timeout.
 */
function holdsPing(p: Buffer): boolean {
  for (let i = p.indexOf('{}'); i !== -1; i = p.indexOf('{}', i + 2)) {
    const startsLine = i === 0 || p[i - 1] === NEWLINE;
    const endsLine = i + 2 === p.length || p[i + 2] === NEWLINE;
    if (startsLine && endsLine) return true;
  }
  return false;
}

/** The send time after MARK at `from` (digits, maybe a fraction, up to `;`); NaN if malformed. */
function readSentAt(p: Buffer, from: number): number {
  let whole = 0;
  let frac = 0;
  let scale = 1;
  let inFrac = false;
  for (let i = from; i < p.length; i++) {
    const c = p[i] as number;
    if (c === SEMICOLON) return whole + frac / scale;
    if (c === DOT && !inFrac) inFrac = true;
    else if (c >= 0x30 && c <= 0x39) {
      if (inFrac) {
        frac = frac * 10 + (c - 0x30);
        scale *= 10;
      } else whole = whole * 10 + (c - 0x30);
    } else return Number.NaN;
  }
  return Number.NaN;
}

/** A growable list of doubles (latencies: up to millions per run). */
class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
  clear(): void {
    this.length = 0;
  }
}

const sockets: WireSocket[] = [];
let socketCount = 0;
let open = 0;
const latencies = new Samples();
let deliveries = 0;
let otherFrames = 0;
let expected = Number.POSITIVE_INFINITY;
let completeSent = false;
const perMessage = new Map<number, { n: number; first: number; last: number }>();
let measuring = false;
let measureCpu = process.cpuUsage();
let dropped = 0;
const dropReasons: Record<string, number> = {};
let closing = false;

function countReason(into: Record<string, number>, reason: string): void {
  // Numbers (ports, ids, times) vary per socket; the reasons are grouped without them.
  const key = reason.replace(/\d+/g, 'N').slice(0, 200);
  if (into[key] !== undefined) into[key]++;
  else if (Object.keys(into).length < 5) into[key] = 1;
}

/** Counts (and times) every publication in a frame of a ready socket. */
function onDeliveryFrame(payload: Buffer, at: number): void {
  let p = payload.indexOf(MARK);
  if (p === -1) {
    otherFrames++;
    return;
  }
  while (p !== -1) {
    const sentAt = readSentAt(payload, p + MARK.length);
    if (measuring && Number.isFinite(sentAt)) {
      const ms = at - sentAt;
      latencies.push(ms);
      const m = perMessage.get(sentAt);
      if (m) {
        m.n++;
        if (ms > m.last) m.last = ms;
        if (ms < m.first) m.first = ms;
      } else perMessage.set(sentAt, { n: 1, first: ms, last: ms });
    }
    deliveries++;
    p = payload.indexOf(MARK, p + MARK.length);
  }
  if (measuring && !completeSent && deliveries >= expected) {
    completeSent = true;
    tell({ type: 'complete', at });
  }
}

async function connectAll(m: Extract<ToClients, { type: 'connect' }>): Promise<ConnectReport> {
  const first = socketCount;
  socketCount += m.count;
  const handshakes = new Samples();
  const errors: Record<string, number> = {};
  let ready = 0;
  let failed = 0;
  let started = 0;
  let inFlight = 0;
  const t0 = sharedNow();
  let lastDone = t0;
  const progress = setInterval(
    () => tell({ type: 'progress', ready, failed, of: m.count }),
    1_000,
  ).unref();

  await new Promise<void>((resolve) => {
    if (m.count === 0) return resolve();
    const settle = (ok: boolean, ws: WireSocket, reason?: string) => {
      inFlight--;
      lastDone = sharedNow();
      if (ok) {
        ready++;
        open++;
        handshakes.push(lastDone - ws.startedAt);
      } else {
        failed++;
        countReason(errors, reason ?? 'failed');
      }
      if (started < m.count) startOne();
      else if (inFlight === 0) resolve();
    };
    const startOne = () => {
      const k = first + started++;
      inFlight++;
      const user = `${m.userPrefix}${k}`;
      const a = Math.floor(k / m.perAddress);
      const localAddress = `127.1.${Math.floor(a / 250)}.${1 + (a % 250)}`;
      const parley = m.kind === 'parley';
      const token = parley ? parleyToken(user, m.secret) : centrifugoToken(user, m.secret);
      const ws = new WireSocket(
        {
          host: m.host,
          port: m.port,
          path: parley ? `/ws?token=${token}` : '/connection/websocket',
          localAddress,
        },
        {
          onOpen(w) {
            if (!parley) w.sendText(JSON.stringify({ id: 1, connect: { token, name: 'peer' } }));
          },
          onText(w, payload, at) {
            if (w.ready) {
              if (!parley && holdsPing(payload)) w.sendText('{}');
              onDeliveryFrame(payload, at);
              return;
            }
            if (parley) {
              const text = payload.toString('utf8');
              if (text.includes('"type":"ready"')) {
                w.ready = true;
                settle(true, w);
              } else if (text.includes('"type":"error"')) {
                settle(false, w, `error frame before ready: ${text.slice(0, 200)}`);
                w.close();
              }
              return;
            }
            // Centrifugo: replies one a line; 1 = connect, 2 = subscribe.
            for (const line of payload.toString('utf8').split('\n')) {
              if (!line) continue;
              if (line === '{}') {
                w.sendText('{}');
                continue;
              }
              const reply = JSON.parse(line) as { id?: number; error?: unknown };
              if (reply.error) {
                settle(false, w, `centrifugo error: ${JSON.stringify(reply.error)}`);
                w.close();
                return;
              }
              if (reply.id === 1)
                w.sendText(JSON.stringify({ id: 2, subscribe: { channel: m.channel } }));
              else if (reply.id === 2) {
                w.ready = true;
                settle(true, w);
              }
            }
          },
          onClose(w, reason) {
            if (w.ready) {
              open--;
              if (!closing) {
                dropped++;
                countReason(dropReasons, reason);
              }
            } else settle(false, w, reason);
          },
        },
      );
      ws.index = k;
      sockets.push(ws);
    };
    for (let i = 0; i < Math.min(m.concurrency, m.count); i++) startOne();
  });
  clearInterval(progress);
  return {
    type: 'connected',
    ready,
    failed,
    seconds: (lastDone - t0) / 1000,
    handshakeMs: percentileSummary(handshakes.view()),
    errors,
    open,
  };
}

function report(): DeliveryReport {
  const cpu = process.cpuUsage(measureCpu);
  const messages = [...perMessage].map(([sentAt, s]) => ({
    sentAt,
    deliveries: s.n,
    firstMs: s.first,
    lastMs: s.last,
  }));
  messages.sort((a, b) => a.sentAt - b.sentAt);
  const r: DeliveryReport = {
    type: 'report',
    deliveries,
    otherFrames,
    latencyMs: percentileSummary(latencies.view()),
    messages,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    dropped,
    dropReasons: { ...dropReasons },
    open,
  };
  measuring = false;
  return r;
}

process.on('message', (m: ToClients) => {
  switch (m.type) {
    case 'connect':
      connectAll(m).then(tell, (err: Error) => tell({ type: 'failed', reason: err.message }));
      return;
    case 'measure':
      latencies.clear();
      perMessage.clear();
      deliveries = 0;
      otherFrames = 0;
      dropped = 0;
      for (const k of Object.keys(dropReasons)) delete dropReasons[k];
      expected = m.expected;
      completeSent = false;
      measuring = true;
      measureCpu = process.cpuUsage();
      return;
    case 'report':
      tell(report());
      return;
    case 'close': {
      closing = true;
      for (const ws of sockets) ws.close();
      // Give the close frames a moment to go out, then leave.
      setTimeout(() => {
        tell({ type: 'closed' });
        process.disconnect?.();
        process.exit(0);
      }, 500);
      return;
    }
  }
});
process.on('disconnect', () => {
  if (!closing) process.exit(0);
});
