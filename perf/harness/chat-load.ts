/**
 * The chat load itself: members (one socket each) in rooms, sending at an offered rate on a
 * schedule whether or not acks came back (open loop), and everything measured per message as the
 * frames arrive: ack latency (send frame out → ack in: durably stored), send → deliver latency at
 * every other member (from the send time the body carries, perf/scenarios/types.ts `timedBody`),
 * refusals, and the correctness of what each member was shown (seq-check.ts).
 *
 * Work is split into phases (a warm-up, a measured run, each step of a stress ramp): a message
 * belongs to the phase it was sent in, wherever its ack and deliveries arrive, so a phase's
 * latencies are those of its own messages, stragglers included once it is settled.
 */
import { sentAtOf, timedBody } from '../scenarios/types';
import { RoomSeqs, SeqTracker } from './seq-check';
import type { LoadRoom } from './setup';
import { Latency, type LatencySummary } from './stats';

/** What a ws socket must offer the engine (the `ws` package's WebSocket does). */
export interface LoadWs {
  send(data: string): void;
  on(event: 'message', fn: (data: Buffer) => void): unknown;
  on(event: 'close', fn: (code: number) => void): unknown;
  close(): void;
}

interface SendRec {
  room: number;
  member: number;
  phase: number;
  /** performance.now() when the send frame was written. */
  t0: number;
  /** Date.now() then: the time its body carries. */
  sentAt: number;
  acks: number;
  ackAt: number;
  /** The seq of the first ack or delivery. */
  seq: number;
  delivered: number;
  refused: string | undefined;
}

interface Phase {
  label: string;
  rate: number;
  seconds: number;
  start: number;
  sendEnd: number;
  sent: number;
  first: number;
  ack: Latency;
  deliver: Latency;
  /** How late each send left against its schedule: the client's own lag. */
  lag: Latency;
  refusals: Map<string, number>;
}

export interface PhaseStats {
  label: string;
  offeredPerSecond: number;
  seconds: number;
  sent: number;
  stored: number;
  refused: number;
  refusalsByCode: Record<string, number>;
  /** Sent, neither acked nor refused when the phase was read. */
  unacked: number;
  /** Stored per second: acked messages over the time from the phase's start to its last ack (at least its sending time). */
  achievedPerSecond: number;
  deliveriesExpected: number;
  deliveries: number;
  ack: LatencySummary;
  deliver: LatencySummary;
  clientLag: LatencySummary;
}

export interface Verification {
  ok: boolean;
  sent: number;
  stored: number;
  refused: number;
  /** Sent, never acked nor refused: lost (or the drain ran out). */
  unacked: number;
  duplicateAcks: number;
  /** Two sends of a room acked with one seq, or a seq before the run. */
  seqCollisions: number;
  /** Seqs of a room that no ack had, below its highest acked seq. */
  seqHoles: number;
  /** A member shown a seq twice. */
  duplicateDeliveries: number;
  /** Seqs a member never saw, up to its room's last. */
  missingDeliveries: number;
  /** Deliveries that arrived ahead of an earlier seq (reported; not a failure: a client syncs). */
  outOfOrder: number;
  /** A delivery whose seq differs from its send's ack. */
  seqMismatches: number;
  /** Message frames in the run's rooms that no send of this run made. */
  foreignMessages: number;
  /** Sockets the server closed during the run. */
  socketsClosed: number;
  problems: string[];
}

export interface ChatLoadOptions {
  bodyChars: number;
  /** Prefix of every clientMsgId of this run (short, unique per run). */
  tag: string;
}

/**
 * Frames the load does not look at (`unread` follows every message to every member: half of all
 * frames), told by the first letters of their type — the gateway writes `{"type":"…` first — and
 * skipped before any string is made: a load client must be cheap per frame.
 */
const TYPE_AT = '{"type":"'.length;
const [U, T, P, R] = ['u', 't', 'p', 'r'].map((c) => c.charCodeAt(0)) as [
  number,
  number,
  number,
  number,
];
function isNoise(data: Buffer): boolean {
  const c = data[TYPE_AT];
  return c === U || c === T || (c === P && data[TYPE_AT + 1] === R); // unread, typing, presence
}

export class ChatLoad {
  private readonly recs: SendRec[] = [];
  private readonly phases: Phase[] = [];
  private readonly trackers: SeqTracker[];
  private readonly roomSeqs: RoomSeqs[];
  private readonly memberRoom: number[];
  private nextSender = 0;
  private duplicateAcks = 0;
  private seqMismatches = 0;
  private foreign = 0;
  private otherErrors = 0;
  private closed = 0;
  private closing = false;
  /** performance.now() of every first ack, in arrival order (for the indexing lag). */
  readonly ackTimes: number[] = [];

  constructor(
    private readonly rooms: readonly LoadRoom[],
    private readonly sockets: readonly LoadWs[],
    private readonly opts: ChatLoadOptions,
  ) {
    this.memberRoom = [];
    rooms.forEach((r, ri) => {
      for (const m of r.members) this.memberRoom[m] = ri;
    });
    this.trackers = sockets.map(
      (_, m) => new SeqTracker(rooms[this.memberRoom[m] as number]?.baseline ?? 0),
    );
    this.roomSeqs = rooms.map((r) => new RoomSeqs(r.baseline));
    sockets.forEach((ws, m) => {
      ws.on('message', (data) => this.onFrame(m, data));
      ws.on('close', () => {
        if (!this.closing) this.closed++;
      });
    });
  }

  private onFrame(member: number, data: Buffer): void {
    if (isNoise(data)) return;
    const f = JSON.parse(data.toString()) as
      | { type: 'ack'; clientMsgId: string; seq: number }
      | {
          type: 'message';
          message: { clientMsgId: string; seq: number; body: string; roomId: string };
        }
      | { type: 'error'; code: string; ref?: string | number }
      | { type: string };
    if (f.type === 'message' && 'message' in f) {
      const m = f.message;
      const now = Date.now();
      this.trackers[member]?.see(m.seq);
      const rec = this.recOf(m.clientMsgId);
      if (!rec) {
        this.foreign++;
        return;
      }
      rec.delivered++;
      if (rec.seq === 0) rec.seq = m.seq;
      else if (rec.seq !== m.seq) this.seqMismatches++;
      const sentAt = sentAtOf(m.body);
      if (sentAt !== undefined) this.phases[rec.phase]?.deliver.record(now - sentAt);
    } else if (f.type === 'ack' && 'clientMsgId' in f) {
      const rec = this.recOf(f.clientMsgId);
      if (!rec) return;
      if (++rec.acks > 1) {
        this.duplicateAcks++;
        return;
      }
      const now = performance.now();
      rec.ackAt = now;
      this.ackTimes.push(now);
      if (rec.seq === 0) rec.seq = f.seq;
      else if (rec.seq !== f.seq) this.seqMismatches++;
      this.trackers[member]?.see(f.seq);
      this.roomSeqs[rec.room]?.acked(f.seq);
      this.phases[rec.phase]?.ack.record(now - rec.t0);
    } else if (f.type === 'error' && 'code' in f) {
      const rec = typeof f.ref === 'string' ? this.recOf(f.ref) : undefined;
      if (!rec) {
        this.otherErrors++;
        return;
      }
      rec.refused ??= f.code;
      const p = this.phases[rec.phase];
      p?.refusals.set(f.code, (p.refusals.get(f.code) ?? 0) + 1);
    }
  }

  private recOf(clientMsgId: string): SendRec | undefined {
    if (!clientMsgId.startsWith(this.opts.tag)) return undefined;
    return this.recs[Number(clientMsgId.slice(this.opts.tag.length))];
  }

  private sendOne(phase: number): void {
    const member = this.nextSender++ % this.sockets.length;
    const room = this.memberRoom[member] as number;
    const n = this.recs.length;
    const rec: SendRec = {
      room,
      member,
      phase,
      t0: performance.now(),
      sentAt: Date.now(),
      acks: 0,
      ackAt: 0,
      seq: 0,
      delivered: 0,
      refused: undefined,
    };
    this.recs.push(rec);
    this.sockets[member]?.send(
      JSON.stringify({
        type: 'send',
        roomId: this.rooms[room]?.id,
        clientMsgId: `${this.opts.tag}${n}`,
        body: timedBody(rec.sentAt, this.opts.bodyChars),
      }),
    );
  }

  /**
   * Sends `rate` messages a second for `seconds`, round-robin over the members, each at its
   * scheduled time whatever came back; resolves when the last one is sent. Returns the phase index.
   */
  async run(label: string, rate: number, seconds: number): Promise<number> {
    const total = Math.max(1, Math.round(rate * seconds));
    const start = performance.now();
    const idx =
      this.phases.push({
        label,
        rate,
        seconds,
        start,
        sendEnd: start,
        sent: 0,
        first: this.recs.length,
        ack: new Latency(),
        deliver: new Latency(),
        lag: new Latency(),
        refusals: new Map(),
      }) - 1;
    const phase = this.phases[idx] as Phase;
    const interval = 1000 / rate;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - start) / interval) + 1);
        while (phase.sent < due) {
          phase.lag.record(now - (start + phase.sent * interval));
          this.sendOne(idx);
          phase.sent++;
        }
        if (phase.sent >= total) return resolve();
        setTimeout(tick, Math.max(0, start + phase.sent * interval - performance.now()));
      };
      tick();
    });
    phase.sendEnd = performance.now();
    return idx;
  }

  private recsOf(phase: number | undefined): SendRec[] {
    if (phase === undefined) return this.recs;
    const p = this.phases[phase] as Phase;
    return this.recs.slice(p.first, p.first + p.sent);
  }

  private deliveriesExpected(rec: SendRec): number {
    return rec.refused !== undefined && rec.acks === 0
      ? 0
      : (this.rooms[rec.room]?.members.length ?? 1) - 1;
  }

  /** True when every send (of the phase, or of the run) was acked or refused and delivered everywhere. */
  settled(phase?: number): boolean {
    return this.recsOf(phase).every(
      (r) => (r.acks > 0 || r.refused !== undefined) && r.delivered >= this.deliveriesExpected(r),
    );
  }

  /** Waits until `settled(phase)` or `timeoutMs`; resolves true if settled. */
  async settle(phase: number | undefined, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.settled(phase)) {
      if (performance.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    return true;
  }

  /** Unacked sends of the run, now. */
  outstanding(): number {
    let n = 0;
    for (const r of this.recs) if (r.acks === 0 && r.refused === undefined) n++;
    return n;
  }

  /** The phase's numbers as they stand (read after `settle`). */
  stats(phase: number): PhaseStats {
    const p = this.phases[phase] as Phase;
    const recs = this.recsOf(phase);
    let stored = 0;
    let refused = 0;
    let lastAck = p.sendEnd;
    let expected = 0;
    let delivered = 0;
    for (const r of recs) {
      if (r.acks > 0) {
        stored++;
        if (r.ackAt > lastAck) lastAck = r.ackAt;
      } else if (r.refused !== undefined) refused++;
      expected += this.deliveriesExpected(r);
      delivered += r.delivered;
    }
    const span = Math.max(lastAck - p.start, p.seconds * 1000);
    return {
      label: p.label,
      offeredPerSecond: p.rate,
      seconds: p.seconds,
      sent: recs.length,
      stored,
      refused,
      refusalsByCode: Object.fromEntries(p.refusals),
      unacked: recs.length - stored - refused,
      achievedPerSecond: Math.round((stored / span) * 1000 * 10) / 10,
      deliveriesExpected: expected,
      deliveries: delivered,
      ack: p.ack.summary(),
      deliver: p.deliver.summary(),
      clientLag: p.lag.summary(),
    };
  }

  /** The room ids and, per room, the last seq its acks reached (for the server-side checks). */
  roomLastSeqs(): { id: string; last: number; stored: number }[] {
    return this.rooms.map((r, i) => ({
      id: r.id,
      last: this.roomSeqs[i]?.last ?? r.baseline,
      stored: this.roomSeqs[i]?.count ?? 0,
    }));
  }

  /** Per room, the body of the message acked with the room's last seq (undefined if none). */
  lastBodies(): (string | undefined)[] {
    const last = this.roomSeqs.map((r) => r.last);
    const out: (string | undefined)[] = this.rooms.map(() => undefined);
    for (const r of this.recs)
      if (r.acks > 0 && r.seq === last[r.room])
        out[r.room] = timedBody(r.sentAt, this.opts.bodyChars);
    return out;
  }

  /** The whole run checked: call after the final drain. */
  verify(): Verification {
    let stored = 0;
    let refused = 0;
    let unacked = 0;
    for (const r of this.recs) {
      if (r.acks > 0) stored++;
      else if (r.refused !== undefined) refused++;
      else unacked++;
    }
    let collisions = 0;
    let holes = 0;
    for (const r of this.roomSeqs) {
      collisions += r.collisions;
      holes += r.holes().length;
    }
    let dupDeliveries = 0;
    let missing = 0;
    let outOfOrder = 0;
    this.trackers.forEach((t, m) => {
      const room = this.roomSeqs[this.memberRoom[m] as number];
      dupDeliveries += t.duplicates;
      outOfOrder += t.outOfOrder;
      missing += t.missing(room?.last ?? t.baseline).length;
    });
    const v: Verification = {
      ok: false,
      sent: this.recs.length,
      stored,
      refused,
      unacked,
      duplicateAcks: this.duplicateAcks,
      seqCollisions: collisions,
      seqHoles: holes,
      duplicateDeliveries: dupDeliveries,
      missingDeliveries: missing,
      outOfOrder,
      seqMismatches: this.seqMismatches,
      foreignMessages: this.foreign,
      socketsClosed: this.closed,
      problems: [],
    };
    const say = (n: number, what: string) => n > 0 && v.problems.push(`${n} ${what}`);
    say(unacked, 'sends never acked nor refused (lost?)');
    say(v.duplicateAcks, 'sends acked more than once');
    say(collisions, 'acks with a seq another send of the room had');
    say(holes, 'seqs missing between acked ones');
    say(dupDeliveries, 'seqs shown twice to a member');
    say(missing, 'seqs a member never saw');
    say(v.seqMismatches, 'deliveries whose seq is not their ack’s');
    say(v.foreignMessages, 'messages in the run’s rooms that no send made');
    say(this.closed, 'sockets closed by the server');
    if (this.otherErrors > 0)
      v.problems.push(`${this.otherErrors} error frames for no send of ours`);
    v.ok = v.problems.length === 0;
    return v;
  }

  /** Closes every socket (not counted as closed by the server). */
  close(): void {
    this.closing = true;
    for (const ws of this.sockets) ws.close();
  }
}
