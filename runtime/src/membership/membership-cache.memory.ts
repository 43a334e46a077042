import type { MembershipCache } from './membership-cache';

/** The embedded mode's membership cache: a Map of Sets in this process. */
export class MemoryMembershipCache implements MembershipCache {
  private readonly rooms = new Map<string, Set<string>>();

  async isMember(roomId: string, userId: string) {
    return this.rooms.get(roomId)?.has(userId);
  }
  async members(roomId: string) {
    const set = this.rooms.get(roomId);
    return set ? [...set] : undefined;
  }
  async setMembers(roomId: string, userIds: string[]) {
    this.rooms.set(roomId, new Set(userIds));
  }
  async fillIfAbsent(roomId: string, userIds: string[]) {
    if (!this.rooms.has(roomId)) this.rooms.set(roomId, new Set(userIds));
  }
}
