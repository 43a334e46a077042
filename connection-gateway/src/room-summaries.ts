/**
 * Rooms' last seq and last message, from the messages function (the owner of seqs):
 * `GET /internal/rooms/summaries?ids=` in chunks of 500.
 */
import type { Message } from '@parley/protocol';
import type { ServiceClient } from '@parley/runtime';

export type RoomSummary = { lastSeq: number; lastMessage?: Message };

export async function roomSummaries(
  messages: ServiceClient,
  roomIds: readonly string[],
): Promise<Record<string, RoomSummary>> {
  const out: Record<string, RoomSummary> = {};
  for (let i = 0; i < roomIds.length; i += 500) {
    const ids = roomIds
      .slice(i, i + 500)
      .map(encodeURIComponent)
      .join(',');
    const r = await messages.getJson<{ rooms: Record<string, RoomSummary> }>(
      `/internal/rooms/summaries?ids=${ids}`,
    );
    Object.assign(out, r?.rooms ?? {});
  }
  return out;
}

/** A room's last seq (0 for a room without messages). */
export async function lastSeqOf(messages: ServiceClient, roomId: string): Promise<number> {
  return (await roomSummaries(messages, [roomId]))[roomId]?.lastSeq ?? 0;
}
