/**
 * What bench:peer reads about processes from /proc: CPU (user + system, every thread, in
 * USER_HZ ticks), resident memory, the open-files limit; and the machine it ran on.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { procCpuSplitTicks, TICKS_PER_SECOND } from '../../src/proc-cpu';

/** CPU seconds a process has used so far in user and in kernel mode; NaN once it is gone. */
export function cpuSplit(pid: number): { user: number; system: number } {
  const t = procCpuSplitTicks(pid);
  return t
    ? { user: t.user / TICKS_PER_SECOND, system: t.system / TICKS_PER_SECOND }
    : { user: Number.NaN, system: Number.NaN };
}

/** CPU seconds (user + system) a process has used so far; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  const c = cpuSplit(pid);
  return c.user + c.system;
}

/** Resident set size in bytes (VmRSS); NaN once the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The soft limit on open files of a process (each socket is one). */
export function openFilesLimit(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/limits`, 'utf8').match(/^Max open files\s+(\d+)/m);
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** A running total of CPU seconds over several processes, from a starting point. */
export class CpuMeter {
  private readonly start: { user: number; system: number }[];
  constructor(private readonly pids: readonly number[]) {
    this.start = pids.map(cpuSplit);
  }
  /** CPU seconds each process used since the meter started (same order as the pids). */
  read(): number[] {
    return this.split().map((c) => c.user + c.system);
  }
  /** The same, in user and kernel mode apart. */
  split(): { user: number; system: number }[] {
    return this.pids.map((p, i) => {
      const now = cpuSplit(p);
      const s = this.start[i] as { user: number; system: number };
      return { user: now.user - s.user, system: now.system - s.system };
    });
  }
}

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  /** Load average (1, 5, 15 min) when read. */
  load: number[];
  commit: string;
  /** Working-tree changes outside perf/ (others' work in progress goes into the bundle too). */
  dirty: boolean;
}

export function machine(repoRoot: string): Machine {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    load: loadavg().map((x) => Math.round(x * 100) / 100),
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
  };
}
