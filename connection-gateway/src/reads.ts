/**
 * Read markers at the gateway, shared by the WebSocket `read` frame (ws/frames.ts), the HTTP API
 * (`POST /rooms/:id/read`, `GET /rooms`) and the session set-up (server.ts).
 */
import { createEvent, type ParleyEvent } from '@parley/eventing';
import { type Logger, ParleyError, type ServiceClient } from '@parley/runtime';
import { lastSeqOf } from './room-summaries';

/**
 * A user's stored read markers (room → seq) from the notifications function; undefined (and
 * logged) while it cannot answer, so what needs them can go on without.
 */
export async function readMarkersOf(
  notifications: ServiceClient,
  log: Logger,
  userId: string,
): Promise<Record<string, number> | undefined> {
  try {
    const r = await notifications.getJson<{ markers: Record<string, number> }>(
      `/internal/users/${encodeURIComponent(userId)}/markers`,
    );
    return r?.markers ?? {};
  } catch (err) {
    log.warn({ err, userId }, 'read markers unavailable');
    return undefined;
  }
}

/** What checking a read needs: membership and the room's last seq (the messages function). */
interface ReadDeps {
  isMember: (roomId: string, userId: string) => Promise<boolean>;
  messages: ServiceClient;
}

/**
 * The `parley.notify.read` command for a read of `roomId` up to `seq`, once checked: the user is
 * a member (else `not_member`) and the room has that seq (else `bad_request`). Carries the room's
 * last seq, from which notify tells the unread count after the read. Null when `seq` is at or
 * below `known`, the marker the caller already knows: nothing would change (markers only grow),
 * so nothing is looked up or produced.
 */
export async function readCommand(
  deps: ReadDeps,
  actorId: string,
  roomId: string,
  seq: number,
  source: string,
): Promise<ParleyEvent<'parley.notify.read'>>;
export async function readCommand(
  deps: ReadDeps,
  actorId: string,
  roomId: string,
  seq: number,
  source: string,
  known: number | undefined,
): Promise<ParleyEvent<'parley.notify.read'> | null>;
export async function readCommand(
  deps: ReadDeps,
  actorId: string,
  roomId: string,
  seq: number,
  source: string,
  known?: number,
): Promise<ParleyEvent<'parley.notify.read'> | null> {
  if (!(await deps.isMember(roomId, actorId)))
    throw new ParleyError('not_member', 'you are not a member of this room');
  if (known !== undefined && seq <= known) return null;
  const lastSeq = await lastSeqOf(deps.messages, roomId);
  if (seq > lastSeq)
    throw new ParleyError(
      'bad_request',
      `seq ${seq} is past the last message of room ${roomId} (${lastSeq})`,
    );
  return createEvent('parley.notify.read', { actorId, roomId, seq, lastSeq }, { source });
}
