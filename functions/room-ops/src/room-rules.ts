/**
 * The rules of room commands, without I/O: who may do what to which room.
 * Each check returns the refusal to answer the actor with, or undefined to go
 * on. The handler (handler.ts) reads the state, asks these, and writes.
 */
import type { ErrorCode, Room, User } from '@parley/protocol';

export interface Refusal {
  code: ErrorCode;
  message: string;
}

const refusal = (code: ErrorCode, message: string): Refusal => ({ code, message });

/** The members of a new group room: the creator first, then the named users, each once. */
export function initialMembers(actorId: string, memberIds: readonly string[]): string[] {
  return [...new Set([actorId, ...memberIds])];
}

/** not_found naming every id of `wanted` the directory did not return. */
export function checkUsersExist(
  wanted: readonly string[],
  found: readonly User[],
): Refusal | undefined {
  const known = new Set(found.map((u) => u.id));
  const unknown = [...new Set(wanted)].filter((id) => !known.has(id));
  if (unknown.length === 0) return undefined;
  return refusal(
    'not_found',
    `unknown user${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
  );
}

/** A DM needs another user. */
export function checkDmPeer(actorId: string, userId: string): Refusal | undefined {
  return actorId === userId ? refusal('conflict', 'a DM needs two different users') : undefined;
}

/** A DM is named after its two users, ordered by user id so both sides agree on the name. */
export function dmName(a: User, b: User): string {
  const [first, second] = a.id < b.id ? [a, b] : [b, a];
  return `${first.displayName} & ${second.displayName}`;
}

/** Inviting: only into an existing group room, only by one of its members. */
export function checkInvite(
  room: Room | null,
  memberIds: readonly string[],
  actorId: string,
): Refusal | undefined {
  if (!room) return refusal('not_found', 'no such room');
  if (room.kind === 'dm') return refusal('conflict', 'nobody can be invited to a DM');
  if (!memberIds.includes(actorId)) return notMember();
  return undefined;
}

/**
 * Leaving: the room must exist and a DM cannot be left. Whether the actor is
 * a member of a group room is settled by the removal itself (see
 * `RoomStore.removeMember`), so a redelivered leave is recognised as done
 * rather than refused.
 */
export function checkLeave(
  room: Room | null,
  memberIds: readonly string[],
  actorId: string,
): Refusal | undefined {
  if (!room) return refusal('not_found', 'no such room');
  if (room.kind === 'dm') {
    return memberIds.includes(actorId) ? refusal('conflict', 'a DM cannot be left') : notMember();
  }
  return undefined;
}

export const notMember = (): Refusal => refusal('not_member', 'you are not a member of this room');
