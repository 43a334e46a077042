import type { Message } from '@parley/protocol';
import type { Page } from './message-store';
import { RECENT_MAX, type RecentCache, type RecentQuery } from './recent-cache';
import { exactPage, windowOf } from './recent-window';

/** The embedded mode's recent cache: the newest RECENT_MAX messages per room, in this process. */
export class MemoryRecentCache implements RecentCache {
  private readonly rooms = new Map<string, Map<number, Message>>();

  async add(message: Message): Promise<void> {
    let room = this.rooms.get(message.roomId);
    if (!room) {
      room = new Map();
      this.rooms.set(message.roomId, room);
    }
    room.set(message.seq, { ...message });
    if (room.size > RECENT_MAX) {
      const seqs = [...room.keys()].sort((a, b) => a - b);
      for (const seq of seqs.slice(0, room.size - RECENT_MAX)) room.delete(seq);
    }
  }

  async range(roomId: string, query: RecentQuery): Promise<Page | undefined> {
    const w = windowOf(query);
    if (!w) return undefined;
    const room = this.rooms.get(roomId);
    const cached: Message[] = [];
    for (let seq = w.from; seq <= w.through; seq++) {
      const m = room?.get(seq);
      if (m) cached.push({ ...m });
    }
    return exactPage(w, cached);
  }
}
