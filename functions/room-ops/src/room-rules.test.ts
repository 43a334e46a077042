import type { Room } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import {
  checkDmPeer,
  checkInvite,
  checkLeave,
  checkUsersExist,
  dmName,
  initialMembers,
} from './room-rules';

const user = (id: string, displayName = id) => ({ id, username: id, displayName });
const room = (kind: Room['kind']): Room => ({
  id: 'r1',
  name: 'x',
  kind,
  memberCount: 2,
  lastSeq: 0,
});

describe('room rules', () => {
  it('a new room holds its creator first and every named user once', () => {
    expect(initialMembers('u_a', ['u_b', 'u_a', 'u_c', 'u_b'])).toEqual(['u_a', 'u_b', 'u_c']);
    expect(initialMembers('u_a', [])).toEqual(['u_a']);
  });

  it('names every unknown user in one not_found', () => {
    expect(checkUsersExist(['u_a', 'u_b'], [user('u_a'), user('u_b')])).toBeUndefined();
    expect(checkUsersExist(['u_a', 'u_x'], [user('u_a')])).toEqual({
      code: 'not_found',
      message: 'unknown user: u_x',
    });
    expect(checkUsersExist(['u_x', 'u_a', 'u_y', 'u_x'], [user('u_a')])?.message).toBe(
      'unknown users: u_x, u_y',
    );
  });

  it('refuses a DM with yourself as a conflict', () => {
    expect(checkDmPeer('u_a', 'u_a')?.code).toBe('conflict');
    expect(checkDmPeer('u_a', 'u_b')).toBeUndefined();
  });

  it('names a DM after both users in user-id order, the same from either side', () => {
    const zoe = user('u_1', 'Zoe');
    const adam = user('u_2', 'Adam');
    expect(dmName(zoe, adam)).toBe('Zoe & Adam');
    expect(dmName(adam, zoe)).toBe('Zoe & Adam');
  });

  it('lets only a member invite, only into an existing group room', () => {
    expect(checkInvite(null, [], 'u_a')?.code).toBe('not_found');
    expect(checkInvite(room('dm'), ['u_a', 'u_b'], 'u_a')?.code).toBe('conflict');
    expect(checkInvite(room('group'), ['u_b'], 'u_a')?.code).toBe('not_member');
    expect(checkInvite(room('group'), ['u_a'], 'u_a')).toBeUndefined();
  });

  it('refuses leaving a missing room or a DM; a group leave is settled by the removal', () => {
    expect(checkLeave(null, [], 'u_a')?.code).toBe('not_found');
    expect(checkLeave(room('dm'), ['u_a', 'u_b'], 'u_a')).toEqual({
      code: 'conflict',
      message: 'a DM cannot be left',
    });
    expect(checkLeave(room('dm'), ['u_b', 'u_c'], 'u_a')?.code).toBe('not_member');
    expect(checkLeave(room('group'), ['u_a'], 'u_a')).toBeUndefined();
    expect(checkLeave(room('group'), [], 'u_a')).toBeUndefined();
  });
});
