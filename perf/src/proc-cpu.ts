/**
 * CPU time per process, read from /proc/<pid>/stat (utime + stime, in clock ticks), so a
 * benchmark can say where the CPU of each stored message went: every Parley process of a stack
 * (`Stack.pids()`), the services under it (MariaDB ×2, Redis, Kafka, Elasticsearch — the
 * pidfiles tests/infra/up writes), a peer server, and the load client itself.
 *
 * Linux only. A process that exits between two readings keeps what was last read of it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraDir } from '@parley/launcher/infra';

/** Clock ticks per second of /proc (USER_HZ): 100 on Linux. */
export const TICKS_PER_SECOND = 100;

export interface ProcRef {
  /** What to call it in a report: `message-write`, `mariadb-a`, `client`. */
  name: string;
  pid: number;
}

/** CPU ticks of a process in user and in kernel mode (all its threads), from /proc/<pid>/stat; undefined if it is gone. */
export function procCpuSplitTicks(pid: number): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command (which may hold spaces) start after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]), system: Number(fields[12]) }; // utime, stime (fields 14, 15)
  } catch {
    return undefined;
  }
}

/** CPU ticks (user + system) of a process; undefined if it is gone. */
export function procCpuTicks(pid: number): number | undefined {
  const t = procCpuSplitTicks(pid);
  return t && t.user + t.system;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status; undefined if it is gone. */
export function procRssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The services tests/infra/up started (from the pidfiles in its state directory: `.parley`, or
 * PARLEY_INFRA_DIR), those running.
 */
export function infraProcesses(stateDir: string = infraDir()): ProcRef[] {
  const files: [string, string][] = [
    ['mariadb-a', 'mysqlA/mariadbd.pid'],
    ['mariadb-b', 'mysqlB/mariadbd.pid'],
    ['redis', 'redis/redis.pid'],
    ['kafka', 'kafka/kafka.pid'],
    ['elasticsearch', 'es/es.pid'],
  ];
  const out: ProcRef[] = [];
  for (const [name, rel] of files) {
    const file = join(stateDir, rel);
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && procCpuTicks(pid) !== undefined)
      out.push({ name, pid });
  }
  return out;
}

/** CPU used by each process between `start()` and `read()`, in milliseconds. */
export class CpuMeter {
  private readonly from = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private startedAt = 0;

  constructor(readonly procs: readonly ProcRef[]) {}

  start(): this {
    this.startedAt = performance.now();
    for (const p of this.procs) {
      const t = procCpuTicks(p.pid);
      if (t !== undefined) {
        this.from.set(p.name, t);
        this.last.set(p.name, t);
      }
    }
    return this;
  }

  /** CPU milliseconds per process since `start()` and the wall milliseconds it covers. */
  read(): { wallMs: number; cpuMs: Record<string, number>; totalCpuMs: number } {
    const cpuMs: Record<string, number> = {};
    let total = 0;
    for (const p of this.procs) {
      const from = this.from.get(p.name);
      if (from === undefined) continue;
      const now = procCpuTicks(p.pid) ?? this.last.get(p.name) ?? from;
      this.last.set(p.name, now);
      const ms = ((now - from) * 1000) / TICKS_PER_SECOND;
      cpuMs[p.name] = ms;
      total += ms;
    }
    return { wallMs: performance.now() - this.startedAt, cpuMs, totalCpuMs: total };
  }
}

/** CPU per unit of work (e.g. per stored message), ms, per process, largest first. */
export function cpuPer(
  cpuMs: Record<string, number>,
  units: number,
): { name: string; cpuMs: number; perUnitMs: number }[] {
  return Object.entries(cpuMs)
    .map(([name, ms]) => ({ name, cpuMs: ms, perUnitMs: units > 0 ? ms / units : 0 }))
    .sort((a, b) => b.cpuMs - a.cpuMs);
}
