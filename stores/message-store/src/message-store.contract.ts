/**
 * The behaviour every MessageStore must have, run against the memory adapter
 * (unit) and MySQL over two physical shards (real).
 */
import { LOGICAL_SHARDS, logicalShardOf, newId } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendInput, MessageStore } from './message-store';

export interface MessageStoreFixture {
  store: MessageStore;
  teardown?: () => Promise<void>;
}

/** A fresh room id whose logical shard is in the lower (0-31) or upper (32-63) half. */
export function roomInHalf(half: 'lower' | 'upper'): string {
  for (;;) {
    const id = newId('r');
    const lower = logicalShardOf(id) < LOGICAL_SHARDS / 2;
    if (lower === (half === 'lower')) return id;
  }
}

const send = (
  roomId: string,
  senderId: string,
  clientMsgId: string,
  body = `hi ${clientMsgId}`,
): AppendInput => ({
  id: newId('m'),
  roomId,
  senderId,
  clientMsgId,
  body,
  ts: Date.now(),
});

export function describeMessageStoreContract(
  name: string,
  setup: () => Promise<MessageStoreFixture>,
) {
  describe(`MessageStore contract: ${name}`, () => {
    let store: MessageStore;
    let fixture: MessageStoreFixture;
    beforeAll(async () => {
      fixture = await setup();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.teardown?.();
    });

    async function fill(roomId: string, n: number) {
      for (let i = 1; i <= n; i++) await store.append(send(roomId, 'u_a', `c${i}`));
    }
    const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);

    it('gives a room seqs 1, 2, 3 and returns what it stored', async () => {
      const room = newId('r');
      const input = send(room, 'u_a', 'c1', '안녕하세요 👋 hello');
      const first = await store.append(input);
      expect(first).toEqual({
        created: true,
        message: {
          id: input.id,
          roomId: room,
          seq: 1,
          senderId: 'u_a',
          body: input.body,
          ts: input.ts,
          clientMsgId: 'c1',
        },
      });
      expect((await store.append(send(room, 'u_b', 'c2'))).message.seq).toBe(2);
      expect((await store.append(send(room, 'u_a', 'c3'))).message.seq).toBe(3);
      const page = await store.page(room, { limit: 10 });
      expect(page.messages[0]).toEqual(first.message);
      expect(seqs(page.messages)).toEqual([1, 2, 3]);
    });

    it('a retried clientMsgId stores one message', async () => {
      const room = newId('r');
      const first = await store.append(send(room, 'u_a', 'same', 'first body'));
      const retry = await store.append(send(room, 'u_a', 'same', 'retried body'));
      expect(retry.created).toBe(false);
      expect(retry.message).toEqual(first.message);
      const page = await store.page(room, { limit: 10 });
      expect(page.messages).toEqual([first.message]);
      expect(await store.lastSeq(room)).toBe(1);
    });

    it('finds a stored message by its sender and clientMsgId', async () => {
      const room = newId('r');
      const { message } = await store.append(send(room, 'u_a', 'mine'));
      expect(await store.find(room, 'u_a', 'mine')).toEqual(message);
      expect(await store.find(room, 'u_b', 'mine')).toBeUndefined();
      expect(await store.find(room, 'u_a', 'other')).toBeUndefined();
      expect(await store.find(newId('r'), 'u_a', 'mine')).toBeUndefined();
    });

    it('concurrent retries of one clientMsgId store one message', async () => {
      const room = newId('r');
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.append(send(room, 'u_a', 'racing'))),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(await store.lastSeq(room)).toBe(1);
    });

    it('the same clientMsgId from two senders stores two messages', async () => {
      const room = newId('r');
      const a = await store.append(send(room, 'u_a', 'shared'));
      const b = await store.append(send(room, 'u_b', 'shared'));
      expect([a.created, b.created]).toEqual([true, true]);
      expect([a.message.seq, b.message.seq]).toEqual([1, 2]);
      expect(b.message.senderId).toBe('u_b');
    });

    it("two concurrent appenders of 150 messages each get seqs 1..300, gap-free, in each sender's order", async () => {
      const room = newId('r');
      const appender = async (sender: string) => {
        for (let i = 0; i < 150; i++) await store.append(send(room, sender, `${sender}-${i}`));
      };
      await Promise.all([appender('u_a'), appender('u_b')]);
      const { messages, hasMore } = await store.page(room, { after: 0, limit: 1000 });
      expect(hasMore).toBe(false);
      expect(seqs(messages)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(new Set(messages.map((m) => m.id)).size).toBe(300);
      for (const sender of ['u_a', 'u_b']) {
        const mine = messages.filter((m) => m.senderId === sender).map((m) => m.clientMsgId);
        expect(mine).toEqual(Array.from({ length: 150 }, (_, i) => `${sender}-${i}`));
      }
      expect(await store.lastSeq(room)).toBe(300);
    });

    it('pages backwards with before and from the latest', async () => {
      const room = newId('r');
      await fill(room, 7);
      const latest = await store.page(room, { limit: 3 });
      expect([seqs(latest.messages), latest.hasMore]).toEqual([[5, 6, 7], true]);
      const older = await store.page(room, { before: 5, limit: 3 });
      expect([seqs(older.messages), older.hasMore]).toEqual([[2, 3, 4], true]);
      const oldest = await store.page(room, { before: 2, limit: 3 });
      expect([seqs(oldest.messages), oldest.hasMore]).toEqual([[1], false]);
      const exact = await store.page(room, { before: 4, limit: 3 });
      expect([seqs(exact.messages), exact.hasMore]).toEqual([[1, 2, 3], false]);
      const all = await store.page(room, { limit: 7 });
      expect([seqs(all.messages), all.hasMore]).toEqual([[1, 2, 3, 4, 5, 6, 7], false]);
      expect(await store.page(room, { before: 1, limit: 3 })).toEqual({
        messages: [],
        hasMore: false,
      });
      const beyond = await store.page(room, { before: 1000, limit: 2 });
      expect([seqs(beyond.messages), beyond.hasMore]).toEqual([[6, 7], true]);
    });

    it('pages forwards with after', async () => {
      const room = newId('r');
      await fill(room, 7);
      const first = await store.page(room, { after: 0, limit: 3 });
      expect([seqs(first.messages), first.hasMore]).toEqual([[1, 2, 3], true]);
      const next = await store.page(room, { after: 3, limit: 3 });
      expect([seqs(next.messages), next.hasMore]).toEqual([[4, 5, 6], true]);
      const last = await store.page(room, { after: 6, limit: 3 });
      expect([seqs(last.messages), last.hasMore]).toEqual([[7], false]);
      const exact = await store.page(room, { after: 4, limit: 3 });
      expect([seqs(exact.messages), exact.hasMore]).toEqual([[5, 6, 7], false]);
      expect(await store.page(room, { after: 7, limit: 3 })).toEqual({
        messages: [],
        hasMore: false,
      });
    });

    it('an empty or unknown room has no messages and last seq 0', async () => {
      const room = newId('r');
      expect(await store.page(room, { limit: 10 })).toEqual({ messages: [], hasMore: false });
      expect(await store.page(room, { after: 0, limit: 10 })).toEqual({
        messages: [],
        hasMore: false,
      });
      expect(await store.lastSeq(room)).toBe(0);
    });

    it('keeps rooms on both halves of the shard map apart, each with its own seqs', async () => {
      const lower = roomInHalf('lower');
      const upper = roomInHalf('upper');
      await fill(lower, 3);
      await fill(upper, 2);
      expect(await store.lastSeq(lower)).toBe(3);
      expect(await store.lastSeq(upper)).toBe(2);
      expect(seqs((await store.page(upper, { limit: 10 })).messages)).toEqual([1, 2]);
      expect(
        (await store.page(upper, { limit: 10 })).messages.every((m) => m.roomId === upper),
      ).toBe(true);
    });

    it('summarises rooms across shards: last seq and last message, 0 for a room without messages', async () => {
      const lower = roomInHalf('lower');
      const upper = roomInHalf('upper');
      const empty = roomInHalf('upper');
      await fill(lower, 2);
      const last = await store.append(send(upper, 'u_b', 'only', '마지막 메시지'));
      const s = await store.summaries([lower, upper, empty]);
      expect(s.get(lower)?.lastSeq).toBe(2);
      expect(s.get(lower)?.lastMessage?.clientMsgId).toBe('c2');
      expect(s.get(upper)).toEqual({ lastSeq: 1, lastMessage: last.message });
      expect(s.get(empty)).toEqual({ lastSeq: 0 });
      expect((await store.summaries([])).size).toBe(0);
    });

    // Ids are random (newId); the unique key is a backstop, enforced per physical shard.
    it('refuses a message id that is already taken on the same shard', async () => {
      const taken = await store.append(send(roomInHalf('lower'), 'u_a', 'c1'));
      const other = roomInHalf('lower');
      await expect(
        store.append({ ...send(other, 'u_a', 'c1'), id: taken.message.id }),
      ).rejects.toMatchObject({
        code: 'conflict',
      });
      expect(await store.lastSeq(other)).toBe(0);
    });
  });
}
