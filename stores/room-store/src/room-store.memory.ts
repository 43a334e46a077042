/**
 * The embedded mode's room store: Maps in this process, with the MySQL
 * adapter's semantics (idempotent writes, one DM per pair, replayed commands).
 * Each operation runs without an `await` between its read and its write, so
 * concurrent calls cannot interleave inside one.
 */
import { dmPairKey } from '@parley/eventing';
import type { Room } from '@parley/protocol';
import { ParleyError } from '@parley/runtime';
import type { NewRoom, RoomStore } from './room-store';

interface RoomRow extends NewRoom {
  createdAt: number;
}

type Joined = Map<string, number>; // id → joined_at

const ordered = (joined: Joined | undefined): string[] =>
  [...(joined ?? new Map<string, number>())]
    .sort(([a, ta], [b, tb]) => ta - tb || (a < b ? -1 : a > b ? 1 : 0))
    .map(([id]) => id);

export class MemoryRoomStore implements RoomStore {
  private readonly rooms = new Map<string, RoomRow>();
  private readonly members = new Map<string, Joined>(); // room → users
  private readonly userRooms = new Map<string, Joined>(); // user → rooms
  private readonly dmPairs = new Map<string, string>();
  private readonly appliedCommands = new Set<string>();

  async createRoom(room: NewRoom, memberIds: string[]): Promise<Room> {
    if (!this.rooms.has(room.id)) {
      const now = Date.now();
      this.rooms.set(room.id, { ...room, createdAt: now });
      this.members.set(room.id, new Map([...new Set(memberIds)].map((id) => [id, now])));
    }
    for (const userId of this.members.get(room.id)?.keys() ?? [])
      this.syncUserRoom(room.id, userId);
    return this.roomOf(room.id) as Room;
  }

  async openDm(a: string, b: string, candidateRoomId: string, name: string) {
    const key = dmPairKey(a, b);
    if (!this.dmPairs.has(key)) this.dmPairs.set(key, candidateRoomId);
    const roomId = this.dmPairs.get(key) as string;
    const room = await this.createRoom({ id: roomId, name, kind: 'dm', createdBy: a }, [a, b]);
    return { room, created: roomId === candidateRoomId };
  }

  async addMember(roomId: string, userId: string, commandId?: string): Promise<boolean> {
    const joined = this.members.get(roomId);
    if (!joined) throw new ParleyError('not_found', `room ${roomId} does not exist`);
    let added = commandId !== undefined && this.appliedCommands.has(commandId);
    if (!added && !joined.has(userId)) {
      joined.set(userId, Date.now());
      if (commandId !== undefined) this.appliedCommands.add(commandId);
      added = true;
    }
    this.syncUserRoom(roomId, userId);
    return added;
  }

  async removeMember(roomId: string, userId: string, commandId?: string): Promise<boolean> {
    const joined = this.members.get(roomId);
    let removed = commandId !== undefined && this.appliedCommands.has(commandId);
    if (!removed && joined?.delete(userId)) {
      if (commandId !== undefined) this.appliedCommands.add(commandId);
      removed = true;
    }
    this.syncUserRoom(roomId, userId);
    return removed;
  }

  async getRoom(roomId: string): Promise<Room | null> {
    return this.roomOf(roomId);
  }

  async memberIds(roomId: string): Promise<string[]> {
    return ordered(this.members.get(roomId));
  }

  async roomIdsOf(userId: string): Promise<string[]> {
    return ordered(this.userRooms.get(userId));
  }

  async roomsOf(userId: string): Promise<Room[]> {
    return ordered(this.userRooms.get(userId)).flatMap((id) => this.roomOf(id) ?? []);
  }

  private roomOf(roomId: string): Room | null {
    const row = this.rooms.get(roomId);
    if (!row) return null;
    const memberCount = this.members.get(roomId)?.size ?? 0;
    return { id: row.id, name: row.name, kind: row.kind, memberCount, lastSeq: 0 };
  }

  /** Makes user_rooms agree with room_members for one (room, user). */
  private syncUserRoom(roomId: string, userId: string): void {
    const joinedAt = this.members.get(roomId)?.get(userId);
    let mine = this.userRooms.get(userId);
    if (joinedAt === undefined) {
      mine?.delete(roomId);
      return;
    }
    if (!mine) {
      mine = new Map();
      this.userRooms.set(userId, mine);
    }
    if (!mine.has(roomId)) mine.set(roomId, joinedAt);
  }
}
