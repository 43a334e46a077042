/** What bench:peer needs of a server under test, Parley's gateway or Centrifugo. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import type { Message } from '@parley/protocol';
import type { ServerKind } from './clients';

export interface PeerServer {
  kind: ServerKind;
  /** What ran, for the record (binary, version, engine). */
  label: string;
  pid: number;
  host: string;
  port: number;
  /** Processes whose CPU is shown beside the server's, not in it (Parley: Redis, the fan-out). */
  side: { name: string; pid: number }[];
  /** Publishes one message to the room every client follows, as the server's publisher would. */
  publish(message: Message): Promise<void>;
  /** Counters worth recording (Parley: calls to each stub). */
  counters(): Record<string, number>;
  /** Stops the server (gracefully, then by force) and what was started for it. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released for the server to take). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Spawns a server process with its output going to `logFile`. */
export function spawnLogged(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  cwd?: string,
): ChildProcess {
  const log = createWriteStream(logFile);
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

/** Asks a process to stop (SIGTERM), then kills it if it has not exited within `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Polls `url` until it answers 200 (or the process exits, or `timeoutMs` passes). */
export async function waitHttpOk(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited (${child.exitCode}) while starting`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${what} not ready at ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
