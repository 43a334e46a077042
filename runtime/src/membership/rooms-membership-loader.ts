/**
 * Loads a room's member ids from the room service (the truth behind the
 * membership cache): GET /internal/rooms/:roomId/member-ids → {memberIds} | 404.
 */
import { IdSchema } from '@parley/protocol';
import { z } from 'zod';
import { ParleyError } from '../errors';
import type { ServiceClient } from '../service-client';
import type { MembershipLoader } from './membership-cache';

const MemberIdsSchema = z.object({ memberIds: z.array(IdSchema) });

/** @example membershipWithFallback(cache, roomsMembershipLoader(serviceClient(cfg.ROOMS_URL))) */
export function roomsMembershipLoader(rooms: ServiceClient): MembershipLoader {
  return async (roomId) => {
    const body = await rooms.getJson<unknown>(
      `/internal/rooms/${encodeURIComponent(roomId)}/member-ids`,
    );
    if (body === null) return null;
    const parsed = MemberIdsSchema.safeParse(body);
    if (!parsed.success) throw new ParleyError('internal', 'rooms: malformed member-ids answer');
    return parsed.data.memberIds;
  };
}
