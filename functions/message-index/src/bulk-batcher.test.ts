import { describe, expect, it } from 'vitest';
import { BulkBatcher } from './bulk-batcher';

const nextTurn = () => new Promise((r) => setImmediate(r));

/** A batcher over a recording write whose answer the test releases. */
function recording(opts: { maxBatch: number; lingerMs?: number }) {
  const bulks: number[][] = [];
  const releases: Array<() => void> = [];
  const batcher = new BulkBatcher<number, string>(async (items) => {
    bulks.push(items);
    await new Promise<void>((r) => releases.push(r));
    return items.map((n) => `ok ${n}`);
  }, opts);
  /** Answers every bulk written until none is left (a few turns: the next bulk starts a turn later). */
  const releaseAll = async () => {
    for (let turn = 0; turn < 5; turn++) {
      for (const r of releases.splice(0)) r();
      await nextTurn();
    }
  };
  return { batcher, bulks, releases, releaseAll };
}

describe('BulkBatcher', () => {
  it('without a linger, a submission made in a later turn goes in its own bulk', async () => {
    const { batcher, bulks, releaseAll } = recording({ maxBatch: 50 });
    const a = batcher.submit(1);
    await nextTurn();
    await nextTurn();
    const b = batcher.submit(2);
    await releaseAll();
    expect(await Promise.all([a, b])).toEqual(['ok 1', 'ok 2']);
    expect(bulks).toEqual([[1], [2]]);
  });

  it('with a linger, submissions of later turns join the forming bulk; a full one goes at once', async () => {
    const { batcher, bulks, releaseAll } = recording({ maxBatch: 4, lingerMs: 60_000 });
    const results: Promise<string>[] = [];
    for (let n = 1; n <= 4; n++) {
      results.push(batcher.submit(n));
      await nextTurn();
    }
    // The fourth filled the batch: written without waiting out the minute.
    await nextTurn();
    expect(bulks).toEqual([[1, 2, 3, 4]]);
    await releaseAll();
    expect(await Promise.all(results)).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4']);
  });

  it('answers a submission only once its bulk answered; what arrived meanwhile goes next, without lingering', async () => {
    const { batcher, bulks, releases } = recording({ maxBatch: 2, lingerMs: 60_000 });
    const settled: string[] = [];
    const first = [batcher.submit(1), batcher.submit(2)].map((p) => p.then((r) => settled.push(r)));
    await nextTurn();
    const third = batcher.submit(3).then((r) => settled.push(r));
    await nextTurn();
    expect(bulks).toEqual([[1, 2]]);
    expect(settled).toEqual([]); // stored nowhere yet
    releases.shift()?.();
    await Promise.all(first);
    expect(settled).toEqual(['ok 1', 'ok 2']);
    await nextTurn();
    expect(bulks).toEqual([[1, 2], [3]]);
    releases.shift()?.();
    await third;
    expect(settled).toEqual(['ok 1', 'ok 2', 'ok 3']);
  });

  it('fails every item of a bulk whose call failed', async () => {
    const batcher = new BulkBatcher<number, string>(
      async () => {
        throw new Error('es down');
      },
      { maxBatch: 10 },
    );
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
