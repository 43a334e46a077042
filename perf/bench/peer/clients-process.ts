/** The parent's handle on the clients child (clients.ts): start it, talk to it, stop it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '@parley/launcher/infra';
import type { FromClients, ToClients } from './clients';

export class ClientsProcess {
  private readonly queue: FromClients[] = [];
  /** The pending `next`: takes a message (true) or leaves it (a stale `complete`: dropped). */
  private waiting: ((m: FromClients) => boolean) | undefined;
  private exitCode: number | null | undefined;
  readonly child: ChildProcess;

  constructor(
    private readonly onProgress: (m: Extract<FromClients, { type: 'progress' }>) => void,
  ) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./clients.ts', import.meta.url))],
      // No NODE_OPTIONS of the parent's (a CPU profile is for the gateway, not the clients).
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    this.child.on('message', (m: FromClients) => {
      if (m.type === 'progress') return this.onProgress(m);
      if (!this.waiting) this.queue.push(m);
      else if (this.waiting(m)) this.waiting = undefined;
    });
    this.child.on('exit', (code) => {
      this.exitCode = code;
      if (this.waiting?.({ type: 'failed', reason: `the clients process exited (${code})` }))
        this.waiting = undefined;
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  send(m: ToClients): void {
    this.child.send(m);
  }

  /** The next message of `type`, or undefined after `timeoutMs`; throws if the clients failed. */
  async next<T extends FromClients['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<FromClients, { type: T }> | undefined> {
    // A `complete` that came after its wait timed out is stale for anything else.
    while (type !== 'complete' && this.queue[0]?.type === 'complete') this.queue.shift();
    const m =
      this.queue.shift() ??
      (this.exitCode !== undefined
        ? ({ type: 'failed', reason: `the clients process exited (${this.exitCode})` } as const)
        : await new Promise<FromClients | undefined>((resolve) => {
            const t = setTimeout(() => {
              this.waiting = undefined;
              resolve(undefined);
            }, timeoutMs);
            this.waiting = (msg) => {
              if (type !== 'complete' && msg.type === 'complete') return false;
              clearTimeout(t);
              resolve(msg);
              return true;
            };
          }));
    if (m === undefined) return undefined;
    if (m.type === 'failed') throw new Error(`clients: ${m.reason}`);
    if (m.type !== type) throw new Error(`clients: expected ${type}, got ${m.type}`);
    return m as Extract<FromClients, { type: T }>;
  }

  /** Like next, but a timeout is an error. */
  async expect<T extends FromClients['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<FromClients, { type: T }>> {
    const m = await this.next(type, timeoutMs);
    if (!m) throw new Error(`clients: no ${type} within ${timeoutMs} ms`);
    return m;
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
