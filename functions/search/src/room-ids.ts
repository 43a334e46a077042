/**
 * The caller's rooms, asked of the room service every time (its data, never
 * the client's word): GET /internal/users/:userId/room-ids → {roomIds}.
 * Not cached, so a user who left a room stops seeing its messages at once.
 */
import { IdSchema } from '@parley/protocol';
import { ParleyError, type ServiceClient } from '@parley/runtime';
import { z } from 'zod';

export type RoomIdsOf = (userId: string) => Promise<string[]>;

const RoomIdsSchema = z.object({ roomIds: z.array(IdSchema) });

/** @example roomIdsFromRoomService(serviceClient(cfg.ROOMS_URL)) */
export function roomIdsFromRoomService(rooms: ServiceClient): RoomIdsOf {
  return async (userId) => {
    const body = await rooms.getJson<unknown>(
      `/internal/users/${encodeURIComponent(userId)}/room-ids`,
    );
    const parsed = RoomIdsSchema.safeParse(body);
    if (!parsed.success) throw new ParleyError('unavailable', 'rooms: malformed room-ids answer');
    return parsed.data.roomIds;
  };
}
