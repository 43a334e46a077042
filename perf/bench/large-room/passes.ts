/**
 * Times a Hub's two passes over a room's sessions, from the outside: the
 * `message` pass (`dispatchMessage`: every session's `message` frame) and the
 * `unread` pass (`unreadPass`: every session's `unread` frame). Both are
 * private methods, called as `this.…` inside the Hub, so wrapping them on the
 * instance sees every call without changing the gateway's code. If they are
 * renamed the bench fails at once instead of silently timing nothing.
 *
 * A small room's unread pass runs inside `dispatchMessage` (no timer), so its
 * time is subtracted from that message pass: the two columns never overlap.
 * Each pass is synchronous (ws frames it and hands it to the socket), so its
 * CPU and wall time are what the gateway's event loop spent on it; a write
 * the kernel did not take at once would finish later, outside the pass, but
 * these frames are small and loopback sockets take them.
 */
import type { Hub } from '@parley/connection-gateway/ws/hub';
import { BenchFailure, cpuMsSince, sharedNow } from './shared';

/** One pass as timed. */
export interface Pass {
  /** When it started, on the clock both processes of part 1 share. */
  at: number;
  cpuMs: number;
  wallMs: number;
}

/** The passes a hub made, in order; `reset()` forgets them (between rounds). */
export interface PassLog {
  message: Pass[];
  unread: Pass[];
  reset(): void;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Wraps `hub`'s message and unread passes so that each call is timed into the returned log. */
export function timePasses(hub: Hub): PassLog {
  const h = hub as unknown as { dispatchMessage?: Method; unreadPass?: Method };
  const dispatchMessage = h.dispatchMessage;
  const unreadPass = h.unreadPass;
  if (typeof dispatchMessage !== 'function' || typeof unreadPass !== 'function')
    throw new BenchFailure(
      'the Hub has no dispatchMessage / unreadPass any more: update perf/bench/large-room/passes.ts',
    );
  const log: PassLog = {
    message: [],
    unread: [],
    reset() {
      log.message.length = 0;
      log.unread.length = 0;
    },
  };
  /** Unread passes run inside the current message pass (a small room's), to subtract. */
  let nested = { cpuMs: 0, wallMs: 0 };
  h.unreadPass = function (this: unknown, ...args: unknown[]) {
    const at = sharedNow();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      return unreadPass.apply(this, args);
    } finally {
      const p = { at, cpuMs: cpuMsSince(cpu0), wallMs: performance.now() - t0 };
      log.unread.push(p);
      nested.cpuMs += p.cpuMs;
      nested.wallMs += p.wallMs;
    }
  };
  h.dispatchMessage = function (this: unknown, ...args: unknown[]) {
    nested = { cpuMs: 0, wallMs: 0 };
    const at = sharedNow();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      return dispatchMessage.apply(this, args);
    } finally {
      log.message.push({
        at,
        cpuMs: cpuMsSince(cpu0) - nested.cpuMs,
        wallMs: performance.now() - t0 - nested.wallMs,
      });
    }
  };
  return log;
}

/** The total CPU and wall time of some passes. */
export const sumPasses = (ps: readonly Pass[]) => ({
  cpuMs: ps.reduce((a, p) => a + p.cpuMs, 0),
  wallMs: ps.reduce((a, p) => a + p.wallMs, 0),
});
