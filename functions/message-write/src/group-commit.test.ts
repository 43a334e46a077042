import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CommitBatch, GroupCommitter } from './group-commit';

/** A commit the test finishes by hand; records every batch it was given. */
function manualCommit() {
  const batches: number[][] = [];
  const pending: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const commit: CommitBatch<number, string> = (items) => {
    batches.push([...items]);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve, reject) => {
      pending.push({
        resolve: () => {
          inFlight--;
          resolve(items.map((n) => ({ status: 'fulfilled', value: `stored ${n}` })));
        },
        reject: (err) => {
          inFlight--;
          reject(err);
        },
      });
    });
  };
  return { commit, batches, pending, maxInFlight: () => maxInFlight };
}

/** Lets the committer's setImmediate (and everything queued before it) run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Answers each item at once: `stored n`, or refused when `refuse(n)`. */
const immediate =
  (refuse: (n: number) => boolean = () => false): CommitBatch<number, string> =>
  async (items) =>
    items.map((n) =>
      refuse(n)
        ? { status: 'rejected', reason: new Error(`refused ${n}`) }
        : { status: 'fulfilled', value: `stored ${n}` },
    );

afterEach(() => {
  vi.useRealTimers();
});

describe('GroupCommitter', () => {
  it('a lone item commits at once and alone: no timer has to fire', async () => {
    // With timers frozen, a committer that lingered on a timer would never commit.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    const commit = vi.fn(immediate());
    const committer = new GroupCommitter(commit);
    await expect(committer.submit(7)).resolves.toBe('stored 7');
    expect(commit.mock.calls).toEqual([[[7]]]);
  });

  it('items submitted together commit together, in submission order, each answered with its own outcome', async () => {
    const commit = vi.fn(immediate());
    const committer = new GroupCommitter(commit);
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => committer.submit(n)));
    expect(commit.mock.calls).toEqual([[[1, 2, 3, 4, 5]]]);
    expect(answers).toEqual(['stored 1', 'stored 2', 'stored 3', 'stored 4', 'stored 5']);
  });

  it('items that arrive while a commit is in flight wait for it, then commit together in the next one', async () => {
    const m = manualCommit();
    const committer = new GroupCommitter(m.commit);
    const first = committer.submit(1);
    await turn();
    expect(m.batches).toEqual([[1]]);
    const later = [committer.submit(2), committer.submit(3)];
    await turn();
    const last = committer.submit(4);
    await turn();
    // Still one commit: the others wait for it, however many turns pass.
    expect(m.batches).toEqual([[1]]);
    expect(committer.waiting).toBe(3);
    m.pending[0]?.resolve();
    await expect(first).resolves.toBe('stored 1');
    await turn();
    expect(m.batches).toEqual([[1], [2, 3, 4]]);
    m.pending[1]?.resolve();
    await expect(Promise.all([...later, last])).resolves.toEqual([
      'stored 2',
      'stored 3',
      'stored 4',
    ]);
    expect(m.maxInFlight()).toBe(1);
  });

  it('a failed commit fails each of its items; the next batch commits', async () => {
    const m = manualCommit();
    const committer = new GroupCommitter(m.commit);
    const doomed = [1, 2, 3].map((n) => committer.submit(n));
    const settled = Promise.allSettled(doomed);
    await turn();
    const next = committer.submit(4);
    m.pending[0]?.reject(new Error('shard down'));
    expect((await settled).map((s) => (s.status === 'rejected' ? s.reason.message : s))).toEqual([
      'shard down',
      'shard down',
      'shard down',
    ]);
    await turn();
    expect(m.batches).toEqual([[1, 2, 3], [4]]);
    m.pending[1]?.resolve();
    await expect(next).resolves.toBe('stored 4');
  });

  it('a commit that throws at once fails its items too', async () => {
    const committer = new GroupCommitter<number, string>(() => {
      throw new Error('no connection');
    });
    const settled = await Promise.allSettled([committer.submit(1), committer.submit(2)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  });

  it('an item refused on its own fails only its submitter', async () => {
    const committer = new GroupCommitter(immediate((n) => n === 2));
    const settled = await Promise.allSettled([1, 2, 3].map((n) => committer.submit(n)));
    expect(settled).toEqual([
      { status: 'fulfilled', value: 'stored 1' },
      { status: 'rejected', reason: new Error('refused 2') },
      { status: 'fulfilled', value: 'stored 3' },
    ]);
  });

  it('a commit that answers too few outcomes fails the items left without one', async () => {
    const committer = new GroupCommitter<number, string>(async () => [
      { status: 'fulfilled', value: 'only one' },
    ]);
    const settled = await Promise.allSettled([committer.submit(1), committer.submit(2)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('takes at most maxBatch items per commit; the rest follow in order', async () => {
    const commit = vi.fn(immediate());
    const sizes: number[] = [];
    const committer = new GroupCommitter(commit, { maxBatch: 100, onBatch: (n) => sizes.push(n) });
    const items = Array.from({ length: 250 }, (_, i) => i);
    const answers = await Promise.all(items.map((n) => committer.submit(n)));
    expect(answers).toEqual(items.map((n) => `stored ${n}`));
    expect(sizes).toEqual([100, 100, 50]);
    expect(commit.mock.calls.flatMap(([batch]) => batch)).toEqual(items);
  });

  it('is idle again after a batch: the next lone item starts its own commit', async () => {
    const commit = vi.fn(immediate());
    const committer = new GroupCommitter(commit);
    await committer.submit(1);
    await turn();
    await committer.submit(2);
    expect(commit.mock.calls).toEqual([[[1]], [[2]]]);
    expect(committer.waiting).toBe(0);
  });
});
