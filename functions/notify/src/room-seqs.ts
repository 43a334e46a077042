/**
 * A room's last seq: the message service's counter, which notify never
 * stores. A joiner's read marker starts there (docs/notifications.md).
 */
import { SeqSchema } from '@parley/protocol';
import { ParleyError, type ServiceClient } from '@parley/runtime';
import { z } from 'zod';

/** The room's last seq; 0 when it has no messages. */
export type LastSeqOf = (roomId: string) => Promise<number>;

const SummariesBody = z.object({ rooms: z.record(z.string(), z.object({ lastSeq: SeqSchema })) });

/**
 * The messages function's `GET /internal/rooms/summaries?ids=<id>` → `{rooms: {[id]: {lastSeq, lastMessage?}}}`.
 * @example const lastSeqOf = httpLastSeqOf(serviceClient(cfg.MESSAGES_URL)); await lastSeqOf('r_1') // 42
 */
export function httpLastSeqOf(messages: ServiceClient): LastSeqOf {
  return async (roomId) => {
    const body = await messages.getJson<unknown>(
      `/internal/rooms/summaries?ids=${encodeURIComponent(roomId)}`,
    );
    // The route always exists: a 404 is a routing fault, worth a retry, not a seq of 0.
    if (body === null) throw new ParleyError('unavailable', 'messages has no summaries route');
    const parsed = SummariesBody.safeParse(body);
    if (!parsed.success) throw new ParleyError('internal', 'messages answered an unexpected body');
    return parsed.data.rooms[roomId]?.lastSeq ?? 0;
  };
}
