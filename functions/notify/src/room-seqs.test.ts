import { serviceClient } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { httpLastSeqOf } from './room-seqs';

/** A messages function stand-in answering `status` with `body`; records the paths asked. */
function messagesAnswering(status: number, body: unknown) {
  const asked: string[] = [];
  const client = serviceClient('http://messages.test', async (req) => {
    const url = new URL(req.url);
    asked.push(url.pathname + url.search);
    return Response.json(body, { status });
  });
  return { lastSeqOf: httpLastSeqOf(client), asked };
}

describe('httpLastSeqOf', () => {
  it("reads the room's lastSeq from the summaries", async () => {
    const { lastSeqOf, asked } = messagesAnswering(200, {
      rooms: { r_1: { lastSeq: 42, lastMessage: { id: 'm_1' } } },
    });
    expect(await lastSeqOf('r_1')).toBe(42);
    expect(asked).toEqual(['/internal/rooms/summaries?ids=r_1']);
  });

  it('a room without an entry has no messages: 0', async () => {
    expect(await messagesAnswering(200, { rooms: {} }).lastSeqOf('r_1')).toBe(0);
  });

  it('a 404, a 5xx and a malformed body are errors, never a seq of 0', async () => {
    await expect(messagesAnswering(404, {}).lastSeqOf('r_1')).rejects.toMatchObject({
      code: 'unavailable',
    });
    await expect(messagesAnswering(500, {}).lastSeqOf('r_1')).rejects.toMatchObject({
      code: 'unavailable',
    });
    await expect(
      messagesAnswering(200, { rooms: { r_1: { lastSeq: -1 } } }).lastSeqOf('r_1'),
    ).rejects.toMatchObject({ code: 'internal' });
  });
});
