/**
 * The room store: rooms, their members, each user's rooms and the one DM of
 * each user pair. Sharded: `rooms` and `room_members` live on the shard of
 * the room id, `user_rooms` on the shard of the user id, `dm_pairs` on the
 * shard of the pair key.
 *
 * A membership change touches two shards (room_members, then user_rooms) and
 * is not atomic across them. Every write is idempotent and room_members —
 * the truth — is always written first, so the redelivery of a command that
 * crashed half-way completes it: user_rooms is brought in line with
 * room_members on every call, whether or not room_members changed.
 *
 * `room-ops` writes; `rooms` reads. Both import this port.
 */
import type { Room, RoomKind } from '@parley/protocol';

export interface NewRoom {
  id: string;
  name: string;
  kind: RoomKind;
  createdBy: string;
}

export interface RoomStore {
  /**
   * Creates a room with its members. Idempotent: a room id that exists is
   * left as it is (its members too) and returned.
   */
  createRoom(room: NewRoom, memberIds: string[]): Promise<Room>;
  /**
   * The one DM of users a and b: claims the pair for `candidateRoomId` unless
   * another room holds it, then makes sure that room exists. Exactly one DM
   * per pair, also under concurrent calls with different candidates.
   * `created` is true when the pair's DM is the candidate's room — also when
   * the same candidate asks again — so a redelivered command redoes its effects.
   */
  openDm(
    a: string,
    b: string,
    candidateRoomId: string,
    name: string,
  ): Promise<{ room: Room; created: boolean }>;
  /**
   * Adds a member; true when this call added them, or when an earlier call
   * with the same `commandId` did (a redelivery). False when already a member.
   * Throws ParleyError('not_found') when the room does not exist.
   */
  addMember(roomId: string, userId: string, commandId?: string): Promise<boolean>;
  /** Removes a member; true when this call (or an earlier one with the same `commandId`) removed them. */
  removeMember(roomId: string, userId: string, commandId?: string): Promise<boolean>;
  /** The room with its member count; `lastSeq` is 0 (the message service owns seqs). */
  getRoom(roomId: string): Promise<Room | null>;
  /** Member ids of a room, by joining time then id; [] when the room does not exist. */
  memberIds(roomId: string): Promise<string[]>;
  /** Ids of the rooms a user is in, by joining time then id. */
  roomIdsOf(userId: string): Promise<string[]>;
  /** The rooms a user is in (with member counts), by joining time then id. */
  roomsOf(userId: string): Promise<Room[]>;
}
