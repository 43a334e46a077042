/** The behaviour every AttemptStore shows, memory and Redis alike. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { AttemptStore, BackoffPolicy } from './attempt-store';

const fresh = () => `test:${randomBytes(6).toString('hex')}`;
const T = 1_700_000_000_000;
const policy: BackoffPolicy = { free: 2, baseMs: 1000, maxMs: 4000, ttlMs: 60_000 };

export function describeAttemptStoreContract(name: string, make: () => AttemptStore) {
  describe(`AttemptStore contract — ${name}`, () => {
    it('lets the free attempts through, then makes each next one wait twice as long, up to the most', async () => {
      const store = make();
      const k = [{ key: fresh(), policy }];
      expect(await store.attempt(k, T)).toEqual({ ok: true });
      expect(await store.attempt(k, T)).toEqual({ ok: true });
      expect(await store.attempt(k, T + 10)).toEqual({ ok: false, retryAfterMs: 990 });
      expect(await store.attempt(k, T + 1000)).toEqual({ ok: true });
      expect(await store.attempt(k, T + 1000)).toEqual({ ok: false, retryAfterMs: 2000 });
      expect(await store.attempt(k, T + 3000)).toEqual({ ok: true });
      expect(await store.attempt(k, T + 3000)).toEqual({ ok: false, retryAfterMs: 4000 });
      expect(await store.attempt(k, T + 7000)).toEqual({ ok: true });
      // 2 free + 3 waited for: the wait would be 8 s, the most is 4 s.
      expect(await store.attempt(k, T + 7000)).toEqual({ ok: false, retryAfterMs: 4000 });
      expect(await store.counts([k[0]?.key as string], T + 7000)).toEqual([5]);
    });

    it('a refused attempt counts nothing: who waits as told gets in', async () => {
      const store = make();
      const k = [{ key: fresh(), policy }];
      await store.attempt(k, T);
      await store.attempt(k, T);
      for (let i = 0; i < 5; i++) expect((await store.attempt(k, T + i)).ok).toBe(false);
      expect(await store.attempt(k, T + 1000)).toEqual({ ok: true });
    });

    it('is one step across its keys: counted on all or on none, waiting for the slowest', async () => {
      const store = make();
      const a = { key: fresh(), policy };
      const b = { key: fresh(), policy: { ...policy, free: 1, baseMs: 5000, maxMs: 5000 } };
      expect(await store.attempt([a, b], T)).toEqual({ ok: true });
      expect(await store.attempt([a, b], T)).toEqual({ ok: false, retryAfterMs: 5000 });
      expect(await store.counts([a.key, b.key], T)).toEqual([1, 1]);
      expect(await store.attempt([a], T)).toEqual({ ok: true });
      expect(await store.attempt([a, b], T + 1000)).toEqual({ ok: false, retryAfterMs: 4000 });
    });

    it('parallel attempts cannot all pass a check made before any was counted', async () => {
      const store = make();
      const k = [{ key: fresh(), policy: { ...policy, free: 3 } }];
      const verdicts = await Promise.all(Array.from({ length: 20 }, () => store.attempt(k, T)));
      expect(verdicts.filter((v) => v.ok)).toHaveLength(3);
    });

    it('refund takes one attempt back, never below zero; clear forgets', async () => {
      const store = make();
      const k = { key: fresh(), policy };
      await store.attempt([k], T);
      await store.attempt([k], T);
      await store.refund([k.key]);
      expect(await store.counts([k.key], T)).toEqual([1]);
      expect(await store.attempt([k], T)).toEqual({ ok: true });
      await store.refund([k.key, k.key, k.key]);
      await store.refund([k.key]);
      expect(await store.counts([k.key], T)).toEqual([0]);
      await store.attempt([k], T);
      await store.clear([k.key]);
      expect(await store.counts([k.key], T)).toEqual([0]);
    });

    it('plain counters add up, and are 0 when absent', async () => {
      const store = make();
      const [a, b] = [fresh(), fresh()];
      await store.add(a, T, 60_000);
      await store.add(a, T, 60_000);
      expect(await store.counts([a, b], T)).toEqual([2, 0]);
      expect(await store.counts([], T)).toEqual([]);
    });

    it('forgets a counter ttlMs after its last attempt', async () => {
      const store = make();
      const short = { key: fresh(), policy: { ...policy, ttlMs: 300 } };
      const plain = fresh();
      await store.attempt([short], Date.now());
      await store.add(plain, Date.now(), 300);
      expect(await store.counts([short.key, plain], Date.now())).toEqual([1, 1]);
      await vi.waitFor(
        async () => expect(await store.counts([short.key, plain], Date.now())).toEqual([0, 0]),
        { timeout: 5000, interval: 50 },
      );
    });
  });
}
