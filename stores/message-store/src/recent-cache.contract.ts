/**
 * The behaviour every RecentCache must have, run against memory (unit) and
 * Redis (real). Room ids are fresh per test, so no test needs a flushed Redis.
 */
import type { Message } from '@parley/protocol';
import { newId } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECENT_MAX, type RecentCache } from './recent-cache';

export interface RecentCacheFixture {
  cache: RecentCache;
  teardown?: () => Promise<void>;
}

const message = (roomId: string, seq: number): Message => ({
  id: `m_${roomId}_${seq}`,
  roomId,
  seq,
  senderId: 'u_a',
  body: `message ${seq} — 한국어 ✓`,
  ts: 1_700_000_000_000 + seq,
  clientMsgId: `c${seq}`,
});
const seqs = (page: { messages: Message[] } | undefined) => page?.messages.map((m) => m.seq);

export function describeRecentCacheContract(
  name: string,
  setup: () => Promise<RecentCacheFixture>,
) {
  describe(`RecentCache contract: ${name}`, () => {
    let cache: RecentCache;
    let fixture: RecentCacheFixture;
    beforeAll(async () => {
      fixture = await setup();
      cache = fixture.cache;
    });
    afterAll(async () => {
      await fixture?.teardown?.();
    });

    async function roomWith(...seqList: number[]): Promise<string> {
      const room = newId('r');
      for (const seq of seqList) await cache.add(message(room, seq));
      return room;
    }
    const range1to = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

    it('answers the latest page, ending at the last seq it is told', async () => {
      const room = await roomWith(...range1to(5));
      const page = await cache.range(room, { limit: 3, lastSeq: 5 });
      expect(page).toEqual({ messages: [3, 4, 5].map((s) => message(room, s)), hasMore: true });
      expect(await cache.range(room, { limit: 5, lastSeq: 5 })).toMatchObject({ hasMore: false });
    });

    it('does not answer the latest page without the last seq', async () => {
      const room = await roomWith(1, 2, 3);
      expect(await cache.range(room, { limit: 3 })).toBeUndefined();
    });

    it('adding the same message twice keeps one copy', async () => {
      const room = await roomWith(1, 2, 2, 1);
      await cache.add(message(room, 2));
      const page = await cache.range(room, { limit: 10, lastSeq: 2 });
      expect(page).toEqual({ messages: [message(room, 1), message(room, 2)], hasMore: false });
    });

    it('keeps order when messages arrive out of order', async () => {
      const room = await roomWith(3, 1, 2);
      expect(seqs(await cache.range(room, { limit: 10, lastSeq: 3 }))).toEqual([1, 2, 3]);
    });

    it('answers after=x starting at x+1, with hasMore from the last seq', async () => {
      const room = await roomWith(...range1to(6));
      const page = await cache.range(room, { after: 2, limit: 3, lastSeq: 6 });
      expect([seqs(page), page?.hasMore]).toEqual([[3, 4, 5], true]);
      const tail = await cache.range(room, { after: 4, limit: 3, lastSeq: 6 });
      expect([seqs(tail), tail?.hasMore]).toEqual([[5, 6], false]);
      expect(await cache.range(room, { after: 6, limit: 3, lastSeq: 6 })).toEqual({
        messages: [],
        hasMore: false,
      });
    });

    it('answers after=x without the last seq only when a newer message proves the page full', async () => {
      const room = await roomWith(...range1to(6));
      const page = await cache.range(room, { after: 1, limit: 3 });
      expect([seqs(page), page?.hasMore]).toEqual([[2, 3, 4], true]);
      // 6 may or may not be the head: the cache cannot know, so it does not answer.
      expect(await cache.range(room, { after: 4, limit: 3 })).toBeUndefined();
      expect(await cache.range(room, { after: 3, limit: 3 })).toBeUndefined();
    });

    it('answers before=y ending at y-1, with hasMore when older messages exist', async () => {
      const room = await roomWith(...range1to(6));
      const page = await cache.range(room, { before: 5, limit: 2 });
      expect([seqs(page), page?.hasMore]).toEqual([[3, 4], true]);
      const oldest = await cache.range(room, { before: 3, limit: 5 });
      expect([seqs(oldest), oldest?.hasMore]).toEqual([[1, 2], false]);
      expect(await cache.range(room, { before: 1, limit: 5 })).toEqual({
        messages: [],
        hasMore: false,
      });
      const clamped = await cache.range(room, { before: 100, limit: 2, lastSeq: 6 });
      expect([seqs(clamped), clamped?.hasMore]).toEqual([[5, 6], true]);
      expect(await cache.range(room, { before: 100, limit: 2 })).toBeUndefined();
    });

    it('a gap (a failed add) never hides a message: pages across it are not answered', async () => {
      const room = await roomWith(1, 2, 4, 5); // seq 3 was stored but its add failed
      expect(await cache.range(room, { limit: 5, lastSeq: 5 })).toBeUndefined();
      expect(await cache.range(room, { limit: 3, lastSeq: 5 })).toBeUndefined();
      expect(await cache.range(room, { after: 2, limit: 2, lastSeq: 5 })).toBeUndefined();
      expect(await cache.range(room, { after: 1, limit: 3 })).toBeUndefined();
      expect(await cache.range(room, { before: 6, limit: 3 })).toBeUndefined();
      // Windows that do not cross the gap are still exact.
      expect(seqs(await cache.range(room, { limit: 2, lastSeq: 5 }))).toEqual([4, 5]);
      expect(seqs(await cache.range(room, { after: 0, limit: 2, lastSeq: 5 }))).toEqual([1, 2]);
      // Once the gap is filled (a redelivery re-adds it), the cache answers again.
      await cache.add(message(room, 3));
      expect(seqs(await cache.range(room, { limit: 5, lastSeq: 5 }))).toEqual([1, 2, 3, 4, 5]);
    });

    it('a missing newest message (its add failed) is never hidden', async () => {
      const room = await roomWith(1, 2, 3, 4); // 5 is stored, not cached
      expect(await cache.range(room, { limit: 3, lastSeq: 5 })).toBeUndefined();
      expect(await cache.range(room, { after: 3, limit: 10, lastSeq: 5 })).toBeUndefined();
    });

    it('an unknown room answers only what needs no data', async () => {
      const room = newId('r');
      expect(await cache.range(room, { limit: 10, lastSeq: 0 })).toEqual({
        messages: [],
        hasMore: false,
      });
      expect(await cache.range(room, { limit: 10, lastSeq: 3 })).toBeUndefined();
      expect(await cache.range(room, { after: 0, limit: 10, lastSeq: 3 })).toBeUndefined();
    });

    it(`keeps only the newest ${RECENT_MAX} messages of a room`, async () => {
      const total = RECENT_MAX + 5;
      const room = await roomWith(...range1to(total));
      const latest = await cache.range(room, { limit: 100, lastSeq: total });
      expect(seqs(latest)?.at(0)).toBe(total - 99);
      expect(seqs(await cache.range(room, { after: 5, limit: 3, lastSeq: total }))).toEqual([
        6, 7, 8,
      ]);
      expect(await cache.range(room, { after: 4, limit: 3, lastSeq: total })).toBeUndefined();
      expect(await cache.range(room, { before: 8, limit: 5 })).toBeUndefined();
    });

    it('keeps rooms apart', async () => {
      const a = await roomWith(1, 2);
      const b = await roomWith(1);
      expect((await cache.range(b, { limit: 10, lastSeq: 1 }))?.messages).toEqual([message(b, 1)]);
      expect(
        (await cache.range(a, { limit: 10, lastSeq: 2 }))?.messages.every((m) => m.roomId === a),
      ).toBe(true);
    });
  });
}
