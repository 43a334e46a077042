import { describe, expect, it } from 'vitest';
import { KdfBusyError, KdfLimiter } from './kdf-limiter';

/** Work the test finishes by hand. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, work: () => done };
}

describe('KdfLimiter', () => {
  it('runs at most `concurrency` at once; the next waits in line and runs when one finishes', async () => {
    const kdf = new KdfLimiter({ concurrency: 2, queue: 1 });
    const [a, b, c] = [gate(), gate(), gate()];
    const order: string[] = [];
    const runs = [
      kdf.run(a.work).then(() => order.push('a')),
      kdf.run(b.work).then(() => order.push('b')),
      kdf.run(c.work).then(() => order.push('c')),
    ];
    expect(kdf.load).toEqual({ running: 2, waiting: 1, waitingFirst: 0 });
    c.open(); // c has no slot yet: finishing its work early changes nothing until it runs
    a.open();
    await runs[0];
    await runs[2];
    expect(order).toEqual(['a', 'c']);
    expect(kdf.load).toEqual({ running: 1, waiting: 0, waitingFirst: 0 });
    b.open();
    await Promise.all(runs);
    expect(kdf.load).toEqual({ running: 0, waiting: 0, waitingFirst: 0 });
  });

  it('refuses at once, with a retriable 503, when the line is full', async () => {
    const kdf = new KdfLimiter({ concurrency: 1, queue: 1 });
    const [a, b] = [gate(), gate()];
    const first = kdf.run(a.work);
    const second = kdf.run(b.work);
    const err = await kdf.run(() => Promise.resolve()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KdfBusyError);
    expect(err).toMatchObject({ code: 'unavailable', status: 503, retryAfterSeconds: 1 });
    a.open();
    b.open();
    await Promise.all([first, second]);
    expect(await kdf.run(() => Promise.resolve('free again'))).toBe('free again');
  });

  it('priority work has a line of its own, served first: a full line of strangers does not keep it out', async () => {
    const kdf = new KdfLimiter({ concurrency: 1, queue: 2 });
    const order: string[] = [];
    const running = gate();
    const first = kdf.run(running.work);
    const strangers = [
      kdf.run(async () => order.push('s1')),
      kdf.run(async () => order.push('s2')),
    ];
    await expect(kdf.run(async () => order.push('s3'))).rejects.toBeInstanceOf(KdfBusyError);
    const owner = kdf.run(async () => order.push('owner'), true);
    running.open();
    await Promise.all([first, owner, ...strangers]);
    expect(order).toEqual(['owner', 's1', 's2']);
  });

  it('frees the slot when the work throws', async () => {
    const kdf = new KdfLimiter({ concurrency: 1, queue: 0 });
    await expect(kdf.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await kdf.run(() => Promise.resolve(1))).toBe(1);
  });
});
