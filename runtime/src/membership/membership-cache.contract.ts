/** The behaviour every MembershipCache shows, memory and Redis alike. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type MembershipCache, membershipWithFallback } from './membership-cache';

const room = () => `r_${randomBytes(6).toString('hex')}`;

export function describeMembershipCacheContract(name: string, make: () => MembershipCache) {
  describe(`MembershipCache contract — ${name}`, () => {
    it('knows nothing of a room it was never told about', async () => {
      const cache = make();
      const r = room();
      expect(await cache.isMember(r, 'u_a')).toBeUndefined();
      expect(await cache.members(r)).toBeUndefined();
    });

    it('answers from the set room-ops wrote, including an empty room', async () => {
      const cache = make();
      const r = room();
      await cache.setMembers(r, ['u_a', 'u_b']);
      expect(await cache.isMember(r, 'u_a')).toBe(true);
      expect(await cache.isMember(r, 'u_c')).toBe(false);
      expect((await cache.members(r))?.sort()).toEqual(['u_a', 'u_b']);
      await cache.setMembers(r, []);
      expect(await cache.isMember(r, 'u_a')).toBe(false);
      expect(await cache.members(r)).toEqual([]);
    });

    it('fillIfAbsent warms a cold room but never overwrites a set written meanwhile', async () => {
      const cache = make();
      const r = room();
      await cache.fillIfAbsent(r, ['u_a']);
      expect(await cache.isMember(r, 'u_a')).toBe(true);
      await cache.setMembers(r, ['u_b']);
      await cache.fillIfAbsent(r, ['u_a']);
      expect(await cache.members(r)).toEqual(['u_b']);
    });

    it('a reader that loaded before a leave does not bring the leaver back', async () => {
      const cache = make();
      const r = room();
      // The reader misses and loads the list from before the leave…
      const isMember = membershipWithFallback(cache, async () => {
        // …while room-ops commits the leave and writes the new set.
        await cache.setMembers(r, ['u_b']);
        return ['u_a', 'u_b'];
      });
      await isMember(r, 'u_a');
      expect(await cache.isMember(r, 'u_a')).toBe(false);
    });

    it('membershipWithFallback: a miss loads once and warms; an unknown room is no membership', async () => {
      const cache = make();
      const r = room();
      let loads = 0;
      const isMember = membershipWithFallback(cache, async (id) => {
        loads++;
        return id === r ? ['u_a'] : null;
      });
      expect(await isMember(r, 'u_a')).toBe(true);
      expect(await isMember(r, 'u_b')).toBe(false);
      expect(loads).toBe(1);
      expect(await isMember(room(), 'u_a')).toBe(false);
    });
  });
}
