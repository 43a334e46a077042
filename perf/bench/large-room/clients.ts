/**
 * The clients of bench:large-room's part 1, in a process of their own so the
 * gateway's CPU is measured alone: MEMBERS WebSockets to the gateway, one per
 * member of the large room, each waiting for `ready`. The parent announces
 * each round (one message, or a burst of several) before publishing it; once
 * every socket has the round's last `message` frame and, when unread frames
 * are expected, an `unread` frame after it, this process reports when the
 * frames arrived (on the clock both processes share,
 * `performance.timeOrigin + performance.now()`) and how many there were.
 *
 * Every frame is checked, and the run fails at the first wrong one:
 * - each socket gets each message once, in seq order, exactly as published;
 * - the gateway sends a room's `message` frames first and its `unread` frames
 *   in a later pass, carrying the count at that moment (docs/notifications.md).
 *   The pass runs after every message up to its count was sent to every
 *   socket, and one socket's frames arrive in the order they were sent, so an
 *   `unread` frame's count is exactly the seq of the last `message` frame its
 *   socket got (the members' markers are 0), or 0 for the sender, whose
 *   marker follows what they send;
 * - at most one `unread` frame between two `message` frames (a pass per new
 *   seq at most), and nothing else.
 * At the end of a round every socket must hold the round's last seq and that
 * count; `verify` checks it again after a quiet moment, so a late or extra
 * frame fails the run too. A frame's bytes are parsed once per distinct
 * content (the gateway serializes each frame once and sends the same bytes to
 * everyone), so checking 20,000 frames a message does not cost 20,000
 * JSON.parse calls.
 *
 * Started by part 1 (gateway-fanout.ts) with `node --import tsx` and an IPC
 * channel; the JWT secret comes in LARGE_ROOM_JWT_SECRET. Not run by hand.
 */
import { isDeepStrictEqual } from 'node:util';
import { createTokenService } from '@parley/runtime';
import WebSocket from 'ws';
import { cpuMsSince, memberId, ROOM_ID, roomMessage, sharedNow } from './shared';

/** What the parent tells this process. */
export type ToClients =
  | {
      type: 'start';
      /** ws://127.0.0.1:<port>/ws */
      url: string;
      members: number;
      /** Handshakes in flight at once while connecting. */
      concurrency: number;
      /** The member who sends every message (their `unread` count is 0). */
      senderIndex: number;
      /** Whether `unread` frames are expected (the members' markers are loaded). */
      unread: boolean;
    }
  /** The seqs `from`…`to` are about to be published: report once all their frames are in. */
  | { type: 'round'; from: number; to: number }
  /** Nothing more was sent: check every socket holds `seq` and its final count. */
  | { type: 'verify'; seq: number }
  | { type: 'close' };

/** How one seq's `message` frames arrived. */
export interface SeqDelivery {
  seq: number;
  firstMessageAt: number;
  lastMessageAt: number;
}

/** One unread pass as the sockets saw it: the frames sent after message `seq`. */
export interface UnreadPassSeen {
  seq: number;
  sockets: number;
  firstAt: number;
  lastAt: number;
}

/** What this process tells the parent. */
export type FromClients =
  | { type: 'progress'; connected: number }
  | { type: 'connected'; connected: number; seconds: number }
  | {
      type: 'delivered';
      from: number;
      to: number;
      messages: SeqDelivery[];
      unreadPasses: UnreadPassSeen[];
      /** Frames (and their WebSocket payload bytes, headers not included) since the last report. */
      messageFrames: number;
      unreadFrames: number;
      payloadBytes: number;
      /** `unread` frames each socket got in this round: the fewest and the most. */
      unreadFramesPerSocket: { min: number; max: number };
      /** Sockets whose final seq and count were checked at the end of the round. */
      checked: number;
      /** This process's CPU since the previous report (rounds come one at a time). */
      clientCpuMs: number;
    }
  | { type: 'verified'; seq: number; sockets: number }
  | { type: 'failed'; reason: string }
  | { type: 'closed' };

const tell = (m: FromClients) => process.send?.(m);

/** A distinct frame content seen before, with what it was found to be. */
type Known =
  | { buf: Buffer; kind: 'message'; seq: number }
  | { buf: Buffer; kind: 'unread'; count: number };

/** Per seq: how far its `message` frames, and the `unread` frames after it, are. */
interface Progress {
  messages: number;
  firstMessageAt: number;
  lastMessageAt: number;
  unreads: number;
  firstUnreadAt: number;
  lastUnreadAt: number;
}

let failed = false;
let closing = false;

function fail(reason: string): void {
  if (failed) return;
  failed = true;
  tell({ type: 'failed', reason });
  // Give the IPC message a moment to leave, then go: the parent tears down the rest.
  setTimeout(() => process.exit(1), 200);
}

/** The sockets, and what to do with the parent's `round` and `verify` once they are open. */
interface Clients {
  sockets: WebSocket[];
  round(from: number, to: number): void;
  verify(seq: number): void;
}

async function run(cfg: Extract<ToClients, { type: 'start' }>): Promise<Clients> {
  const secret = process.env.LARGE_ROOM_JWT_SECRET;
  if (!secret) throw new Error('LARGE_ROOM_JWT_SECRET is not set');
  const tokens = createTokenService(secret);
  const n = cfg.members;
  const senderId = memberId(cfg.senderIndex);
  const sockets: WebSocket[] = new Array(n);
  /** Per socket: the last seq of its `message` frames; the seq after which its last `unread` frame came. */
  const messageSeq = new Int32Array(n);
  const unreadSeq = new Int32Array(n);
  /** Per socket: the count of its last `unread` frame (-1: none yet); `unread` frames so far. */
  const unreadCount = new Int32Array(n).fill(-1);
  const unreadFrames = new Int32Array(n);
  /** unreadFrames at the last report, for the frames of one round. */
  const unreadFramesBefore = new Int32Array(n);
  const ready = new Uint8Array(n);
  const known = new Map<number, Known[]>();
  const progressOf = new Map<number, Progress>();
  /** Since the last report. */
  let messageFrames = 0;
  let unreadFrameTotal = 0;
  let payloadBytes = 0;
  let current: { from: number; to: number } | undefined;

  /** The count socket i should hold after message `seq`. */
  const expectedCount = (i: number, seq: number) => (i === cfg.senderIndex ? 0 : seq);

  /** What a frame is: looked up by its bytes, parsed (and checked) the first time they are seen. */
  const classify = (data: Buffer): Known | undefined => {
    const sameLength = known.get(data.length);
    if (sameLength) for (const k of sameLength) if (k.buf.equals(data)) return k;
    const text = data.toString('utf8');
    const f = JSON.parse(text) as {
      type?: string;
      message?: { seq?: unknown; senderId?: unknown };
      roomId?: string;
      count?: unknown;
    };
    let k: Known | undefined;
    if (f.type === 'message' && typeof f.message?.seq === 'number') {
      const expected = roomMessage(f.message.seq, senderId);
      if (isDeepStrictEqual(f.message, expected))
        k = { buf: data, kind: 'message', seq: expected.seq };
    } else if (cfg.unread && f.type === 'unread' && f.roomId === ROOM_ID) {
      if (typeof f.count === 'number' && Number.isInteger(f.count))
        k = { buf: data, kind: 'unread', count: f.count };
    }
    if (!k) {
      fail(`unexpected frame: ${text.slice(0, 300)}`);
      return undefined;
    }
    known.set(data.length, [...(sameLength ?? []), k]);
    return k;
  };

  const progressAt = (seq: number): Progress => {
    let p = progressOf.get(seq);
    if (!p) {
      p = {
        messages: 0,
        firstMessageAt: 0,
        lastMessageAt: 0,
        unreads: 0,
        firstUnreadAt: 0,
        lastUnreadAt: 0,
      };
      progressOf.set(seq, p);
    }
    return p;
  };

  let cpuMark = process.cpuUsage();

  /** Reports the current round if all its frames are in; checks every socket's final state first. */
  const maybeReport = () => {
    if (!current || failed) return;
    const { from, to } = current;
    const last = progressOf.get(to);
    if (!last || last.messages < n || (cfg.unread && last.unreads < n)) return;
    current = undefined;
    // Every socket now holds the round's last message and (with unread frames) its count.
    for (let i = 0; i < n; i++) {
      if (messageSeq[i] !== to)
        return fail(`socket ${i}: holds message ${messageSeq[i]}, not ${to}`);
      if (cfg.unread && unreadCount[i] !== expectedCount(i, to))
        return fail(
          `socket ${i}: holds unread ${unreadCount[i]} after message ${to}, not ${expectedCount(i, to)}`,
        );
    }
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const d = (unreadFrames[i] as number) - (unreadFramesBefore[i] as number);
      if (d < min) min = d;
      if (d > max) max = d;
    }
    unreadFramesBefore.set(unreadFrames);
    const messages: SeqDelivery[] = [];
    const unreadPasses: UnreadPassSeen[] = [];
    for (let seq = from; seq <= to; seq++) {
      const p = progressOf.get(seq);
      if (!p || p.messages !== n) return fail(`seq ${seq}: ${p?.messages ?? 0} message frames`);
      messages.push({ seq, firstMessageAt: p.firstMessageAt, lastMessageAt: p.lastMessageAt });
      if (p.unreads > 0)
        unreadPasses.push({
          seq,
          sockets: p.unreads,
          firstAt: p.firstUnreadAt,
          lastAt: p.lastUnreadAt,
        });
    }
    for (const seq of [...progressOf.keys()]) if (seq <= to) progressOf.delete(seq);
    const clientCpuMs = cpuMsSince(cpuMark);
    cpuMark = process.cpuUsage();
    tell({
      type: 'delivered',
      from,
      to,
      messages,
      unreadPasses,
      messageFrames,
      unreadFrames: unreadFrameTotal,
      payloadBytes,
      unreadFramesPerSocket: { min, max },
      checked: n,
      clientCpuMs,
    });
    messageFrames = 0;
    unreadFrameTotal = 0;
    payloadBytes = 0;
  };

  const onFrame = (i: number, data: Buffer, onReady: () => void) => {
    if (failed) return;
    if (!ready[i]) {
      const f = JSON.parse(data.toString('utf8')) as { type?: string; userId?: string };
      if (f.type !== 'ready' || f.userId !== memberId(i))
        return fail(`socket ${i}: expected ready, got ${data.toString('utf8').slice(0, 300)}`);
      ready[i] = 1;
      onReady();
      return;
    }
    const k = classify(data);
    if (!k) return;
    const at = sharedNow();
    payloadBytes += data.length;
    const seq = messageSeq[i] as number;
    if (k.kind === 'message') {
      if (k.seq !== seq + 1) return fail(`socket ${i}: message seq ${k.seq} after message ${seq}`);
      messageSeq[i] = k.seq;
      messageFrames++;
      const p = progressAt(k.seq);
      if (p.messages++ === 0) p.firstMessageAt = at;
      p.lastMessageAt = at;
    } else {
      // One unread frame per pass, a pass only after a new message, and the count of that moment.
      if (seq <= (unreadSeq[i] as number) || k.count !== expectedCount(i, seq))
        return fail(
          `socket ${i}: unread count ${k.count} after message ${seq} (expected ${expectedCount(i, seq)}; previous unread after message ${unreadSeq[i]})`,
        );
      unreadSeq[i] = seq;
      unreadCount[i] = k.count;
      unreadFrames[i] = (unreadFrames[i] as number) + 1;
      unreadFrameTotal++;
      const p = progressAt(seq);
      if (p.unreads++ === 0) p.firstUnreadAt = at;
      p.lastUnreadAt = at;
    }
    if (current && seq + (k.kind === 'message' ? 1 : 0) === current.to) maybeReport();
  };

  const open = (i: number, token: string) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${cfg.url}?token=${token}`, {
        perMessageDeflate: false,
        handshakeTimeout: 60_000,
      });
      sockets[i] = ws;
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`socket ${i}: handshake refused with ${res.statusCode}`)),
      );
      ws.once('error', (err) => reject(new Error(`socket ${i}: ${err.message}`)));
      ws.on('message', (data) => onFrame(i, data as Buffer, resolve));
      ws.on('close', (code) => {
        if (!closing) fail(`socket ${i} closed by the gateway with ${code}`);
      });
    });

  const started = performance.now();
  let next = 0;
  let connected = 0;
  await Promise.all(
    Array.from({ length: Math.min(cfg.concurrency, n) }, async () => {
      while (next < n && !failed) {
        const i = next++;
        const id = memberId(i);
        await open(i, await tokens.sign({ id, username: id }));
        if (++connected % 1000 === 0) tell({ type: 'progress', connected });
      }
    }),
  );
  tell({ type: 'connected', connected, seconds: (performance.now() - started) / 1000 });
  cpuMark = process.cpuUsage();
  return {
    sockets,
    round(from, to) {
      current = { from, to };
      // Its frames may have come in before this message did.
      maybeReport();
    },
    verify(seq) {
      if (current) return fail(`verify ${seq} while the round up to ${current.to} is open`);
      if (messageFrames + unreadFrameTotal > 0)
        return fail(`${messageFrames + unreadFrameTotal} frames after the last round`);
      for (let i = 0; i < n; i++) {
        if (messageSeq[i] !== seq) return fail(`socket ${i}: holds message ${messageSeq[i]}`);
        if (cfg.unread && unreadCount[i] !== expectedCount(i, seq))
          return fail(`socket ${i}: holds unread ${unreadCount[i]} at the end, after ${seq}`);
      }
      tell({ type: 'verified', seq, sockets: n });
    },
  };
}

let clients: Clients | undefined;
process.on('message', (m: ToClients) => {
  if (m.type === 'start') {
    run(m).then(
      (c) => {
        clients = c;
      },
      (err: Error) => fail(err.message),
    );
  } else if (m.type === 'round') {
    if (!clients) return fail('a round before the sockets were open');
    clients.round(m.from, m.to);
  } else if (m.type === 'verify') {
    if (!clients) return fail('verify before the sockets were open');
    clients.verify(m.seq);
  } else if (m.type === 'close') {
    closing = true;
    for (const ws of clients?.sockets ?? []) ws?.terminate();
    tell({ type: 'closed' });
    process.disconnect?.();
    setTimeout(() => process.exit(0), 50);
  }
});
// The parent is gone (crashed, killed): so are we.
process.on('disconnect', () => {
  if (!closing) process.exit(1);
});
