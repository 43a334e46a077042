/**
 * Part 2 of bench:large-room: the gateway's two passes over a room in the Hub
 * itself, without sockets. Hubs of MEMBERS Sessions each, all in the large
 * room, over a socket that only counts what it is given (no JSON.parse, no
 * I/O), each Hub's message pass and unread pass timed on the Hub (passes.ts):
 *
 * - **per message**: a Hub that takes the room as small (its member count set
 *   to LIMITS.liveSignalsRoomMaxMembers), so the unread pass follows each
 *   message pass at once, inside the same dispatch, with every member's
 *   markers loaded (`hub.mergeMarkers`); and the same without markers (its
 *   unread pass skips every session), for the ratio. The two take turns,
 *   ROUNDS rounds of MESSAGES messages each, so the machine's noise falls on
 *   both alike. CPU is this process's (user + system) across one dispatch.
 * - **a burst**: BURST_SIZE messages BURST_INTERVAL_MS apart, after a quiet
 *   second, on the small-room Hub (an unread pass per message) and on a Hub
 *   that knows the room's real size (MEMBERS: the unread pass at most once
 *   per UNREAD_COALESCE_MS), taking turns. Per burst: this process's CPU from
 *   the first publish until the last unread frame was sent, the passes' own
 *   CPU, the frames; and that the last count every member got is the burst's
 *   last seq.
 *
 * What this leaves out is the cost of a frame on a real socket (ws framing,
 * the write system call): part 1 has that.
 */

import { Hub } from '@parley/connection-gateway/ws/hub';
import { Session, type SocketLike } from '@parley/connection-gateway/ws/session';
import { MemoryFanout, roomChannel } from '@parley/eventing';
import { LIMITS } from '@parley/protocol';
import { createLogger } from '@parley/runtime';
import { type PassLog, sumPasses, timePasses } from './passes';
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

/** Frames and bytes handed to every socket of one hub. */
interface Tally {
  frames: number;
  chars: number;
}

/** A socket that counts what it is given. A probe also keeps its last frame and tells a watcher. */
class CountingSocket implements SocketLike {
  readonly bufferedAmount = 0;
  last = '';
  watch: ((frame: string) => void) | undefined;
  constructor(
    private readonly tally: Tally,
    private readonly probe = false,
  ) {}
  send(data: string): void {
    this.tally.frames++;
    this.tally.chars += data.length;
    if (!this.probe) return;
    this.last = data;
    this.watch?.(data);
  }
  close(code: number, reason: string): void {
    throw new BenchFailure(`part 2: a session was closed (${code} ${reason})`);
  }
}

interface Room {
  hub: Hub;
  fanout: MemoryFanout;
  tally: Tally;
  passes: PassLog;
  /** The sender's socket and a plain member's, whose last frames are checked. */
  senderProbe: CountingSocket;
  memberProbe: CountingSocket;
  markers: boolean;
  seq: number;
}

const SENDER = memberId(0);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const turn = () => new Promise<void>((r) => setImmediate(r));

/** A hub of `members` sessions in the room, which it takes for `size` members. */
async function room(members: number, markers: boolean, size: number): Promise<Room> {
  const fanout = new MemoryFanout();
  const hub = new Hub(fanout, createLogger('bench-hub', 'error'));
  const passes = timePasses(hub);
  const tally: Tally = { frames: 0, chars: 0 };
  const senderProbe = new CountingSocket(tally, true);
  const memberProbe = new CountingSocket(tally, true);
  for (let i = 0; i < members; i++) {
    const socket = i === 0 ? senderProbe : i === 1 ? memberProbe : new CountingSocket(tally);
    const s = new Session(`s_${i}`, memberId(i), 0, socket, {
      perSecond: 10,
      burst: 10,
      strikes: 20,
    });
    s.ready = true;
    await hub.add(s, [ROOM_ID]);
  }
  hub.setRoomSizes({ [ROOM_ID]: size });
  // Loaded after the sessions: the hub keeps markers only of users with a session here.
  if (markers) for (let i = 0; i < members; i++) hub.mergeMarkers(memberId(i), { [ROOM_ID]: 0 });
  return { hub, fanout, tally, passes, senderProbe, memberProbe, markers, seq: 0 };
}

const publish = (r: Room, seq: number) =>
  r.fanout.publish(roomChannel(ROOM_ID), { kind: 'message', message: roomMessage(seq, SENDER) });

/** Fails unless `socket`'s last frame has these fields. */
function check(socket: CountingSocket, expected: object, what: string): void {
  const got = JSON.parse(socket.last) as Record<string, unknown>;
  for (const [k, v] of Object.entries(expected))
    if (JSON.stringify(got[k]) !== JSON.stringify(v))
      throw new BenchFailure(`part 2: ${what}: ${socket.last.slice(0, 200)}`);
}

/** One message through a small-room hub, timed, its frames checked. */
interface PerMessage {
  cpuMs: number[];
  wallMs: number[];
  messagePassCpuMs: number[];
  messagePassWallMs: number[];
  unreadPassCpuMs: number[];
  unreadPassWallMs: number[];
  frames: number;
  chars: number;
}
const perMessage = (): PerMessage => ({
  cpuMs: [],
  wallMs: [],
  messagePassCpuMs: [],
  messagePassWallMs: [],
  unreadPassCpuMs: [],
  unreadPassWallMs: [],
  frames: 0,
  chars: 0,
});

/** Publishes the room's next message and waits until the hub has sent it (and its counts) to every session. */
async function dispatchOne(r: Room, members: number, into: PerMessage | undefined) {
  const seq = ++r.seq;
  const { frames, chars } = r.tally;
  r.passes.reset();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await publish(r, seq);
  await turn();
  const wall = performance.now() - t0;
  const cpu = cpuMsSince(cpu0);
  const sent = r.tally.frames - frames;
  if (sent !== members * (r.markers ? 2 : 1))
    throw new BenchFailure(`part 2: ${sent} frames for seq ${seq} (markers ${r.markers})`);
  const [mp, up] = [r.passes.message[0], r.passes.unread[0]];
  if (!mp || !up || r.passes.message.length !== 1 || r.passes.unread.length !== 1)
    throw new BenchFailure(`part 2: seq ${seq}: not one message pass and one unread pass`);
  if (r.markers) {
    check(r.memberProbe, { type: 'unread', roomId: ROOM_ID, count: seq }, `seq ${seq}`);
    check(r.senderProbe, { type: 'unread', roomId: ROOM_ID, count: 0 }, `seq ${seq}`);
  } else {
    check(r.memberProbe, { type: 'message', message: roomMessage(seq, SENDER) }, `seq ${seq}`);
  }
  if (!into) return;
  into.cpuMs.push(cpu);
  into.wallMs.push(wall);
  into.messagePassCpuMs.push(mp.cpuMs);
  into.messagePassWallMs.push(mp.wallMs);
  into.unreadPassCpuMs.push(up.cpuMs);
  into.unreadPassWallMs.push(up.wallMs);
  into.frames = sent;
  into.chars = r.tally.chars - chars;
}

/** One burst on a hub, as measured. */
interface BurstRun {
  cpuMs: number;
  wallMs: number;
  messagePassesCpuMs: number;
  unreadPasses: number;
  unreadPassesCpuMs: number;
  frames: number;
}

/**
 * `size` messages `intervalMs` apart on `r`, once its last unread pass is over `quietMs` ago;
 * done when the member probe got the burst's last count (the hub's last unread pass).
 */
async function burst(
  r: Room,
  members: number,
  size: number,
  intervalMs: number,
  quietMs: number,
): Promise<BurstRun> {
  const lastPass = r.passes.unread[r.passes.unread.length - 1]?.at ?? 0;
  await sleep(lastPass + quietMs - sharedNow());
  const from = r.seq + 1;
  const to = r.seq + size;
  r.passes.reset();
  const frames0 = r.tally.frames;
  const done = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new BenchFailure(`part 2: no count ${to} in time`)), 10_000);
    r.memberProbe.watch = (frame) => {
      if (frame.startsWith('{"type":"unread"') && JSON.parse(frame).count === to) {
        clearTimeout(t);
        r.memberProbe.watch = undefined;
        resolve();
      }
    };
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < size; i++) {
    await sleep(t0 + i * intervalMs - performance.now());
    r.seq = from + i;
    await publish(r, r.seq);
  }
  await done;
  const cpuMs = cpuMsSince(cpu0);
  const wallMs = performance.now() - t0;
  const frames = r.tally.frames - frames0;
  const passes = r.passes.unread.length;
  // Each message to everyone, each pass to everyone; everyone left with the last count.
  if (r.passes.message.length !== size || frames !== members * (size + passes))
    throw new BenchFailure(
      `part 2: burst ${from}–${to}: ${r.passes.message.length} message passes, ${passes} unread passes, ${frames} frames`,
    );
  check(r.memberProbe, { type: 'unread', roomId: ROOM_ID, count: to }, `burst ${from}–${to}`);
  check(r.senderProbe, { type: 'unread', roomId: ROOM_ID, count: 0 }, `burst ${from}–${to}`);
  return {
    cpuMs,
    wallMs,
    messagePassesCpuMs: sumPasses(r.passes.message).cpuMs,
    unreadPasses: passes,
    unreadPassesCpuMs: sumPasses(r.passes.unread).cpuMs,
    frames,
  };
}

export interface HubUnreadOptions {
  members: number;
  /** Messages per round and hub. */
  messages: number;
  rounds: number;
  warmup: number;
  bursts: number;
  burstSize: number;
  burstIntervalMs: number;
  /** Quiet time before each burst (> UNREAD_COALESCE_MS, so its first pass goes at once). */
  gapMs: number;
}

/** Runs part 2 and returns its numbers. */
export async function hubUnread(opts: HubUnreadOptions) {
  const small = LIMITS.liveSignalsRoomMaxMembers;
  const withUnread = await room(opts.members, true, small);
  const without = await room(opts.members, false, small);
  const large = await room(opts.members, true, opts.members);
  try {
    // ── per message ─────────────────────────────────────────────────
    for (let i = 0; i < opts.warmup; i++) {
      await dispatchOne(withUnread, opts.members, undefined);
      await dispatchOne(without, opts.members, undefined);
    }
    const a = perMessage();
    const b = perMessage();
    for (let turnNo = 0; turnNo < opts.rounds; turnNo++) {
      // Alternate which goes first, so neither always follows the other's garbage.
      const order = turnNo % 2 === 0 ? [true, false] : [false, true];
      for (const unread of order)
        for (let i = 0; i < opts.messages; i++)
          await dispatchOne(unread ? withUnread : without, opts.members, unread ? a : b);
    }
    const side = (p: PerMessage) => ({
      messages: p.cpuMs.length,
      cpuMsPerMessage: summary(p.cpuMs),
      wallMsPerMessage: summary(p.wallMs),
      messagePassCpuMs: summary(p.messagePassCpuMs),
      messagePassWallMs: summary(p.messagePassWallMs),
      unreadPassCpuMs: summary(p.unreadPassCpuMs),
      unreadPassWallMs: summary(p.unreadPassWallMs),
      framesPerMessage: p.frames,
      charsPerMessage: p.chars,
    });
    const sa = side(a);
    const sb = side(b);

    // ── bursts ──────────────────────────────────────────────────────
    // This process's CPU over a quiet second: a burst's window holds up to ~1 s of it.
    const idle0 = process.cpuUsage();
    const idleT0 = performance.now();
    await sleep(1_000);
    const idleCpuMsPerSecond = (1000 * cpuMsSince(idle0)) / (performance.now() - idleT0);
    // One burst on each first, not counted (the timer path of the large hub gets compiled).
    const runs = { immediate: [] as BurstRun[], coalesced: [] as BurstRun[] };
    const args = [opts.members, opts.burstSize, opts.burstIntervalMs, opts.gapMs] as const;
    await burst(withUnread, ...args);
    await burst(large, ...args);
    for (let i = 0; i < opts.bursts; i++) {
      const order =
        i % 2 === 0 ? (['immediate', 'coalesced'] as const) : (['coalesced', 'immediate'] as const);
      for (const k of order)
        runs[k].push(await burst(k === 'immediate' ? withUnread : large, ...args));
    }
    const burstSide = (rs: BurstRun[]) => ({
      cpuMsPerBurst: summary(rs.map((r) => r.cpuMs)),
      passesCpuMsPerBurst: summary(rs.map((r) => r.messagePassesCpuMs + r.unreadPassesCpuMs)),
      messagePassesCpuMsPerBurst: summary(rs.map((r) => r.messagePassesCpuMs)),
      unreadPassesCpuMsPerBurst: summary(rs.map((r) => r.unreadPassesCpuMs)),
      unreadPassesPerBurst: rs.map((r) => r.unreadPasses),
      framesPerBurst: rs.map((r) => r.frames),
      wallMsPerBurst: summary(rs.map((r) => r.wallMs)),
    });
    const imm = burstSide(runs.immediate);
    const coa = burstSide(runs.coalesced);
    return {
      members: opts.members,
      perMessage: {
        /** The small-room hub with markers: message pass + unread pass, every message. */
        withUnread: sa,
        /** The same hub without markers: message pass, and an unread pass that skips everyone. */
        withoutUnread: sb,
        cpuRatioMean: round(sa.cpuMsPerMessage.mean / sb.cpuMsPerMessage.mean),
        cpuRatioP50: round(sa.cpuMsPerMessage.p50 / sb.cpuMsPerMessage.p50),
        unreadPassUsPerSession: round((1000 * sa.unreadPassWallMs.mean) / opts.members),
        messagePassUsPerSession: round((1000 * sa.messagePassWallMs.mean) / opts.members),
      },
      burst: {
        bursts: opts.bursts,
        size: opts.burstSize,
        intervalMs: opts.burstIntervalMs,
        idleCpuMsPerSecond: round(idleCpuMsPerSecond),
        /** The room taken as small: an unread pass after every message. */
        immediate: imm,
        /** The room at its size: unread passes at most once per UNREAD_COALESCE_MS. */
        coalesced: coa,
        cpuRatio: round(imm.cpuMsPerBurst.mean / coa.cpuMsPerBurst.mean),
        passesCpuRatio: round(imm.passesCpuMsPerBurst.mean / coa.passesCpuMsPerBurst.mean),
      },
    };
  } finally {
    for (const r of [withUnread, without, large]) r.hub.stop();
  }
}
