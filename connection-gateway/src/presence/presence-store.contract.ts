/**
 * What every PresenceStore does, run on memory (unit) and on Redis (real): two gateways share
 * the state; a clock the test moves stands in for time.
 */
import { describe, expect, it } from 'vitest';
import type { PresenceStore } from './presence-store';

export interface PresenceFixture {
  /** Two gateways over one shared state, with the TTL and the clock given (not yet beating). */
  gateways(ttlMs: number, now: () => number): Promise<[PresenceStore, PresenceStore]>;
  /** A user id not used before (the Redis state outlives a test). */
  user(): string;
}

export function describePresenceContract(name: string, fixture: () => PresenceFixture): void {
  describe(`PresenceStore contract — ${name}`, () => {
    const TTL = 30_000;
    let t = 1_000_000;
    const now = () => t;

    it('a first socket brings a user online, the last one takes them offline', async () => {
      const f = fixture();
      const [a] = await f.gateways(TTL, now);
      await a.beat();
      const u = f.user();
      expect(await a.online([u])).toEqual(new Set());
      expect(await a.connect(u)).toBe(true);
      expect(await a.online([u])).toEqual(new Set([u]));
      expect(await a.disconnect(u)).toBe(true);
      expect(await a.online([u])).toEqual(new Set());
    });

    it('sockets on two gateways keep a user online until both are gone', async () => {
      const f = fixture();
      const [a, b] = await f.gateways(TTL, now);
      await Promise.all([a.beat(), b.beat()]);
      const u = f.user();
      expect(await a.connect(u)).toBe(true);
      expect(await b.connect(u)).toBe(false);
      expect(await a.disconnect(u)).toBe(false);
      expect(await b.online([u])).toEqual(new Set([u]));
      expect(await b.disconnect(u)).toBe(true);
      expect(await a.online([u])).toEqual(new Set());
    });

    it('answers for many users at once, only those online', async () => {
      const f = fixture();
      const [a, b] = await f.gateways(TTL, now);
      await Promise.all([a.beat(), b.beat()]);
      const [u1, u2, u3] = [f.user(), f.user(), f.user()];
      await a.connect(u1);
      await b.connect(u3);
      expect(await a.online([u1, u2, u3])).toEqual(new Set([u1, u3]));
      expect(await a.online([])).toEqual(new Set());
      await a.disconnect(u1);
      await b.disconnect(u3);
    });

    it('the users of a gateway that stops beating go offline at the sweep after the TTL', async () => {
      const f = fixture();
      const [a, b] = await f.gateways(TTL, now);
      await Promise.all([a.beat(), b.beat()]);
      const [only, both] = [f.user(), f.user()];
      await a.connect(only);
      await a.connect(both);
      await b.connect(both);
      // `a` dies: no more beats. Before the TTL nothing changes.
      t += TTL / 2;
      await b.beat();
      expect(await b.online([only, both])).toEqual(new Set([only, both]));
      t += TTL / 2 + 1;
      await b.beat();
      // Past it, `only` is offline (counted once, by one sweeper); `both` stays online through `b`.
      expect(await b.online([only, both])).toEqual(new Set([both]));
      // (A shared Redis may hold dead gateways of earlier runs: only this test's users are counted.)
      const mine = (users: string[]) => users.filter((u) => u === only || u === both);
      const swept = await Promise.all([b.sweep(), b.sweep()]);
      expect(mine(swept.flat())).toEqual([only]);
      expect(mine(await b.sweep())).toEqual([]);
      expect(await b.disconnect(both)).toBe(true);
    });

    it('a gateway swept while alive learns it at its next beat', async () => {
      const f = fixture();
      const [a, b] = await f.gateways(TTL, now);
      await Promise.all([a.beat(), b.beat()]);
      const [u, late] = [f.user(), f.user()];
      await a.connect(u);
      expect(await a.beat()).toBe(false);
      t += TTL + 1;
      await b.beat();
      expect(await b.sweep()).toContain(u);
      // A socket that connects before the next beat does not hide the sweep from it.
      await a.connect(late);
      expect(await a.beat()).toBe(true);
      expect(await a.connect(u)).toBe(true);
      expect(await b.online([u, late])).toEqual(new Set([u, late]));
      await a.disconnect(u);
      await a.disconnect(late);
    });

    it('a gateway that beats between being listed dead and being claimed is not swept', async () => {
      const f = fixture();
      const [a, b] = await f.gateways(TTL, now);
      await Promise.all([a.beat(), b.beat()]);
      const u = f.user();
      await a.connect(u);
      t += TTL + 1;
      await a.beat(); // alive after all
      await b.beat();
      expect((await b.sweep()).filter((x) => x === u)).toEqual([]);
      expect(await b.online([u])).toEqual(new Set([u]));
      await a.disconnect(u);
    });
  });
}
