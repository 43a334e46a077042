import { describe, expect, it } from 'vitest';
import { type MembershipCache, membershipWithFallback } from './membership-cache';

const down: MembershipCache = {
  isMember: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6380')),
  fillIfAbsent: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6380')),
} as unknown as MembershipCache;

describe('membership with a cache that is down', () => {
  it('asks the room service instead of failing', async () => {
    const isMember = membershipWithFallback(down, async (roomId) =>
      roomId === 'r_1' ? ['u_a'] : null,
    );
    expect(await isMember('r_1', 'u_a')).toBe(true);
    expect(await isMember('r_1', 'u_b')).toBe(false);
    expect(await isMember('r_2', 'u_a')).toBe(false);
  });
  it('still fails when the room service fails too (nothing to answer from)', async () => {
    const isMember = membershipWithFallback(down, () => Promise.reject(new Error('rooms down')));
    await expect(isMember('r_1', 'u_a')).rejects.toThrow(/rooms down/);
  });
});
