/**
 * The behaviour every NotificationStore adapter must have, run against the
 * memory adapter (unit) and the MySQL adapter (real, two physical shards).
 * Every test uses fresh user and room ids, so the suite shares one store.
 */
import { LIMITS, type Notification } from '@parley/protocol';
import { newId } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  excerptOf,
  MARKERS_OF_ROOM_MAX,
  type NewMention,
  type NotificationStore,
} from './notification-store';

export interface NotificationStoreFixture {
  store: NotificationStore;
  close?: () => Promise<void>;
}

const users = (n: number) => Array.from({ length: n }, () => newId('u'));

/** A mention of seq `seq` in `roomId`, at `ts`. */
const mention = (roomId: string, seq: number, ts: number, over: Partial<NewMention> = {}) => ({
  messageId: newId('m'),
  roomId,
  seq,
  senderId: 'u_sender',
  excerpt: `hello @someone ${seq}`,
  ts,
  ...over,
});

/** The inbox order: ts descending, then message id descending (bytewise). */
const newestFirst = (a: NewMention, b: NewMention) =>
  b.ts - a.ts || (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0);

export function describeNotificationStoreContract(
  name: string,
  factory: () => Promise<NotificationStoreFixture>,
) {
  describe(`NotificationStore contract: ${name}`, () => {
    let fixture: NotificationStoreFixture;
    let store: NotificationStore;
    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.close?.();
    });

    /** Every page of a user's inbox, following nextCursor to the end. */
    const allPages = async (userId: string, limit: number) => {
      const pages: Notification[][] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 100; guard++) {
        const page = await store.inbox(
          userId,
          cursor === undefined ? { limit } : { limit, cursor },
        );
        pages.push(page.notifications);
        if (page.nextCursor === undefined) return pages;
        cursor = page.nextCursor;
      }
      throw new Error('the inbox never ended');
    };

    describe('read markers', () => {
      it('a marker starts where it is first set and only grows', async () => {
        const [alice] = users(1) as [string];
        const room = newId('r');
        expect(await store.advanceMarker(alice, room, 5)).toEqual({ seq: 5, moved: true });
        expect(await store.advanceMarker(alice, room, 3)).toEqual({ seq: 5, moved: false });
        expect(await store.advanceMarker(alice, room, 5)).toEqual({ seq: 5, moved: false });
        expect(await store.advanceMarker(alice, room, 0)).toEqual({ seq: 5, moved: false });
        expect(await store.advanceMarker(alice, room, 9)).toEqual({ seq: 9, moved: true });
        expect(await store.markersOf(alice)).toEqual({ [room]: 9 });
      });

      it('a first marker at 0 is not a move (a missing marker is 0)', async () => {
        const [alice] = users(1) as [string];
        const room = newId('r');
        expect(await store.advanceMarker(alice, room, 0)).toEqual({ seq: 0, moved: false });
        expect(await store.advanceMarker(alice, room, 1)).toEqual({ seq: 1, moved: true });
      });

      it('concurrent advances end at the highest seq; the highest always moved it', async () => {
        const [alice] = users(1) as [string];
        const room = newId('r');
        const seqs = [7, 3, 30, 12, 1, 29, 18, 2, 25, 9, 30, 14, 22, 5, 27, 11];
        const results = await Promise.all(seqs.map((s) => store.advanceMarker(alice, room, s)));
        for (const [i, r] of results.entries()) expect(r.seq).toBeGreaterThanOrEqual(seqs[i] ?? 0);
        // Exactly one of the two calls with 30 raised it to 30 (the other found it there).
        expect(results.filter((r, i) => seqs[i] === 30 && r.moved)).toHaveLength(1);
        expect(await store.markersOf(alice)).toEqual({ [room]: 30 });
      });

      it('of concurrent first advances to one seq exactly one moved the marker', async () => {
        const [alice] = users(1) as [string];
        const room = newId('r');
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.advanceMarker(alice, room, 4)),
        );
        expect(results.filter((r) => r.moved)).toHaveLength(1);
        expect(results.every((r) => r.seq === 4)).toBe(true);
      });

      it("markersOf lists one user's rooms only", async () => {
        const [alice, bob] = users(2) as [string, string];
        const [r1, r2, r3] = [newId('r'), newId('r'), newId('r')];
        await store.advanceMarker(alice, r1, 1);
        await store.advanceMarker(alice, r2, 20);
        await store.advanceMarker(bob, r3, 3);
        await store.advanceMarker(bob, r1, 40);
        expect(await store.markersOf(alice)).toEqual({ [r1]: 1, [r2]: 20 });
        expect(await store.markersOf(bob)).toEqual({ [r3]: 3, [r1]: 40 });
        expect(await store.markersOf(newId('u'))).toEqual({});
      });

      it("markersOfRoom answers the asked users' markers of that room, across shards", async () => {
        const members = users(40);
        const room = newId('r');
        const other = newId('r');
        const expected: Record<string, number> = {};
        await Promise.all(
          members.map(async (u, i) => {
            await store.advanceMarker(u, other, 1000 + i); // another room: never answered
            if (i % 4 === 3) return; // never read this room: absent
            await store.advanceMarker(u, room, i + 1);
            expected[u] = i + 1;
          }),
        );
        const outsider = newId('u');
        await store.advanceMarker(outsider, room, 99); // not asked: not answered
        expect(await store.markersOfRoom(room, members)).toEqual(expected);
        expect(await store.markersOfRoom(room, [...members, ...members.slice(0, 3)])).toEqual(
          expected,
        );
        expect(await store.markersOfRoom(room, [])).toEqual({});
      });

      it(`markersOfRoom refuses more than ${MARKERS_OF_ROOM_MAX} users`, async () => {
        await expect(
          store.markersOfRoom(newId('r'), users(MARKERS_OF_ROOM_MAX + 1)),
        ).rejects.toMatchObject({ code: 'bad_request' });
        expect(await store.markersOfRoom(newId('r'), users(MARKERS_OF_ROOM_MAX))).toEqual({});
      });
    });

    describe('the mention inbox', () => {
      it('adds an entry once per (user, message); a repeat changes nothing', async () => {
        const [alice] = users(1) as [string];
        const m = mention(newId('r'), 4, 1_700_000_000_000);
        const stored = await store.addMention(alice, m);
        expect(stored).toEqual({ kind: 'mention', ...m, read: false });
        expect(await store.addMention(alice, { ...m, excerpt: 'changed', seq: 5 })).toBeNull();
        expect((await store.inbox(alice, { limit: 10 })).notifications).toEqual([stored]);
        expect(await store.unreadTotal(alice)).toBe(1);
      });

      it('the same message mentioning two users makes one entry for each', async () => {
        const [alice, bob] = users(2) as [string, string];
        const m = mention(newId('r'), 1, 1_700_000_000_000);
        expect(await store.addMention(alice, m)).not.toBeNull();
        expect(await store.addMention(bob, m)).not.toBeNull();
        expect(await store.unreadTotal(alice)).toBe(1);
        expect(await store.unreadTotal(bob)).toBe(1);
      });

      it('an entry at or below the marker of its room is born read', async () => {
        const [alice] = users(1) as [string];
        const room = newId('r');
        await store.advanceMarker(alice, room, 10);
        const at = await store.addMention(alice, mention(room, 10, 1));
        const past = await store.addMention(alice, mention(room, 11, 2));
        const elsewhere = await store.addMention(alice, mention(newId('r'), 3, 3));
        expect([at?.read, past?.read, elsewhere?.read]).toEqual([true, false, false]);
        expect(await store.unreadTotal(alice)).toBe(2);
      });

      it('keeps any Unicode in an excerpt of the longest length', async () => {
        const [alice] = users(1) as [string];
        const body = `김민준 🦊 Zoë ${'😀'.repeat(300)}`;
        const excerpt = excerptOf(body);
        expect(Array.from(excerpt)).toHaveLength(LIMITS.mentionExcerptMaxChars);
        const m = mention(newId('r'), 1, 1, { excerpt });
        await store.addMention(alice, m);
        expect((await store.inbox(alice, { limit: 1 })).notifications[0]?.excerpt).toBe(excerpt);
      });

      it('pages newest first, ties on ts by message id, without duplicates or omissions', async () => {
        const [alice] = users(1) as [string];
        const room = newId('r');
        // 23 entries, 3 per ts (ties), added out of order.
        const added = Array.from({ length: 23 }, (_, i) =>
          mention(room, i + 1, 1_700_000_000_000 + Math.floor(i / 3) * 1000),
        );
        for (const m of [...added].reverse().filter((_, i) => i % 2 === 0))
          await store.addMention(alice, m);
        for (const m of [...added].reverse().filter((_, i) => i % 2 === 1))
          await store.addMention(alice, m);
        const expected = [...added].sort(newestFirst).map((m) => m.messageId);
        for (const limit of [1, 3, 5, 22, 23, 50]) {
          const pages = await allPages(alice, limit);
          expect(pages.map((p) => p.length)).toEqual(
            Array.from({ length: Math.ceil(23 / limit) }, (_, i) =>
              Math.min(limit, 23 - i * limit),
            ),
          );
          expect(pages.flat().map((n) => n.messageId)).toEqual(expected);
        }
      });

      it('a page that ends exactly at the last entry has no nextCursor', async () => {
        const [alice] = users(1) as [string];
        const room = newId('r');
        for (let i = 0; i < 4; i++) await store.addMention(alice, mention(room, i + 1, i));
        const first = await store.inbox(alice, { limit: 2 });
        expect(first.nextCursor).toBeDefined();
        const second = await store.inbox(alice, {
          limit: 2,
          cursor: first.nextCursor as string,
        });
        expect(second.notifications.map((n) => n.seq)).toEqual([2, 1]);
        expect(second.nextCursor).toBeUndefined();
        expect(await store.inbox(newId('u'), { limit: 5 })).toEqual({ notifications: [] });
      });

      it('markRead by ids marks only unread entries of that user, and counts them', async () => {
        const [alice, bob] = users(2) as [string, string];
        const room = newId('r');
        const ms = Array.from({ length: 5 }, (_, i) => mention(room, i + 1, i));
        for (const m of ms) await store.addMention(alice, m);
        const bobs = mention(room, 9, 9);
        await store.addMention(bob, bobs);
        const [m0, m1, m2] = ms as [NewMention, NewMention, NewMention];
        expect(
          await store.markRead(alice, [m0.messageId, m1.messageId, bobs.messageId, newId('m')]),
        ).toBe(2);
        expect(await store.markRead(alice, [m0.messageId, m1.messageId, m2.messageId])).toBe(1);
        expect(await store.unreadTotal(alice)).toBe(2);
        expect(await store.unreadTotal(bob)).toBe(1);
        const read = (await store.inbox(alice, { limit: 10 })).notifications.filter((n) => n.read);
        expect(read.map((n) => n.messageId).sort()).toEqual(
          [m0.messageId, m1.messageId, m2.messageId].sort(),
        );
        expect(await store.markRead(alice, [])).toBe(0);
      });

      it("markRead 'all' marks every unread entry of that user only", async () => {
        const [alice, bob] = users(2) as [string, string];
        const room = newId('r');
        for (let i = 0; i < 4; i++) await store.addMention(alice, mention(room, i + 1, i));
        await store.addMention(bob, mention(room, 7, 7));
        await store.markRead(alice, [
          (await store.inbox(alice, { limit: 1 })).notifications[0]?.messageId as string,
        ]);
        expect(await store.markRead(alice, 'all')).toBe(3);
        expect(await store.markRead(alice, 'all')).toBe(0);
        expect(await store.unreadTotal(alice)).toBe(0);
        expect(await store.unreadTotal(bob)).toBe(1);
        expect(await store.markRead(newId('u'), 'all')).toBe(0);
      });

      it("markRoomReadUpTo marks that room's entries up to seq, for that user only", async () => {
        const [alice, bob] = users(2) as [string, string];
        const [room, other] = [newId('r'), newId('r')];
        for (const seq of [2, 5, 6, 9]) await store.addMention(alice, mention(room, seq, seq));
        await store.addMention(alice, mention(other, 1, 1));
        await store.addMention(bob, mention(room, 3, 3));
        expect(await store.markRoomReadUpTo(alice, room, 6)).toBe(3);
        expect(await store.markRoomReadUpTo(alice, room, 6)).toBe(0);
        const page = (await store.inbox(alice, { limit: 10 })).notifications;
        expect(page.map((n) => [n.roomId === room, n.seq, n.read])).toEqual([
          [true, 9, false],
          [true, 6, true],
          [true, 5, true],
          [true, 2, true],
          [false, 1, false],
        ]);
        expect(await store.unreadTotal(alice)).toBe(2);
        expect(await store.unreadTotal(bob)).toBe(1);
      });

      it('a user sees only their own entries and markers', async () => {
        const [alice, bob] = users(2) as [string, string];
        const room = newId('r');
        const a = mention(room, 1, 1);
        const b = mention(room, 2, 2);
        await store.addMention(alice, a);
        await store.addMention(bob, b);
        await store.advanceMarker(bob, room, 2);
        expect(
          (await store.inbox(alice, { limit: 10 })).notifications.map((n) => n.messageId),
        ).toEqual([a.messageId]);
        expect(
          (await store.inbox(bob, { limit: 10 })).notifications.map((n) => n.messageId),
        ).toEqual([b.messageId]);
        expect(await store.markersOf(alice)).toEqual({});
        expect(await store.markRoomReadUpTo(alice, room, 100)).toBe(1);
        expect(await store.unreadTotal(bob)).toBe(1);
      });
    });
  });
}
