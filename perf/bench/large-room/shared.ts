/**
 * What the three parts of bench:large-room share: the room, its members, the
 * messages published into it, and how a run's numbers are summarized.
 */
import type { Message } from '@parley/protocol';

/** The one large room every part measures. */
export const ROOM_ID = 'r_large_room_bench';

/** The id of member `i` (0-based): ASCII, as IdSchema wants, the same in every part and process. */
export const memberId = (i: number): string => `u_lr${String(i).padStart(6, '0')}`;

/** A chat-sized message of the room (about the size of a short line of text). */
export function roomMessage(seq: number, senderId: string): Message {
  return {
    id: `m_lr${String(seq).padStart(8, '0')}`,
    roomId: ROOM_ID,
    seq,
    senderId,
    body: `message ${seq} to the large room: a line of ordinary length, nothing mentioned`,
    ts: 1_764_000_000_000 + seq,
    clientMsgId: `c_lr_${seq}`,
  };
}

/** A wall clock both processes of part 1 agree on (the same system clock, sub-ms resolution). */
export const sharedNow = (): number => performance.timeOrigin + performance.now();

/** CPU time of this process (user + system, every thread, GC included) in ms since `from`. */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

/** The value at percentile `p` (0–100) of `xs`, nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;

/** Rounds for the record: 2 decimals below 10, 1 below 1,000, none above. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const d = Math.abs(x) < 10 ? 100 : Math.abs(x) < 1000 ? 10 : 1;
  return Math.round(x * d) / d;
}

/** p50 / mean / max of a series, rounded for the record. */
export const summary = (xs: readonly number[]) => ({
  p50: round(percentile(xs, 50)),
  mean: round(mean(xs)),
  max: round(Math.max(...xs)),
});

/** /proc CPU readings: the one reader every bench uses (perf/src/proc-cpu.ts). */
export { procCpuTicks, TICKS_PER_SECOND } from '../../src/proc-cpu';

/** Fails the bench with a message that says what was wrong (correctness, never a timing). */
export class BenchFailure extends Error {
  override readonly name = 'BenchFailure';
}
