/**
 * The behaviour every MessageStore must have, run against the memory adapter
 * (unit) and MySQL over two physical shards (real).
 */
import { LOGICAL_SHARDS, logicalShardOf, newId } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendInput, AppendOutcome, AppendResult, MessageStore } from './message-store';

/** The result of a fulfilled outcome; throws the reason of a rejected one. */
function ok(outcome: AppendOutcome | undefined): AppendResult {
  if (!outcome) throw new Error('no outcome for this input');
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

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

    describe('appendMany (a group commit)', () => {
      /** Each room's stored messages as `seq:clientMsgId`, ascending. */
      const timeline = async (roomId: string) =>
        (await store.page(roomId, { after: 0, limit: 1000 })).messages.map(
          (m) => `${m.seq}:${m.clientMsgId}`,
        );

      it('a batch over rooms on both shard halves: each room takes its next seqs in input order, gap-free', async () => {
        const a = roomInHalf('lower');
        const b = roomInHalf('lower');
        const c = roomInHalf('upper');
        await fill(a, 2); // a's counter exists; b and c are new rooms
        const inputs = [
          send(a, 'u_a', 'a3'),
          send(c, 'u_b', 'c1'),
          send(a, 'u_b', 'a4'),
          send(b, 'u_a', 'b1'),
          send(c, 'u_a', 'c2'),
          send(a, 'u_a', 'a5'),
        ];
        const outcomes = await store.appendMany(inputs);
        expect(outcomes).toHaveLength(inputs.length);
        const results = outcomes.map(ok);
        // Outcome i answers input i, with what was stored for it.
        results.forEach((r, i) => {
          const input = inputs[i] as AppendInput;
          expect(r.created).toBe(true);
          expect(r.message).toEqual({
            id: input.id,
            roomId: input.roomId,
            seq: r.message.seq,
            senderId: input.senderId,
            body: input.body,
            ts: input.ts,
            clientMsgId: input.clientMsgId,
          });
        });
        expect(results.map((r) => r.message.seq)).toEqual([3, 1, 4, 1, 2, 5]);
        expect(await timeline(a)).toEqual(['1:c1', '2:c2', '3:a3', '4:a4', '5:a5']);
        expect(await timeline(b)).toEqual(['1:b1']);
        expect(await timeline(c)).toEqual(['1:c1', '2:c2']);
        expect(await store.lastSeq(a)).toBe(5);
        // The next single append continues each room where the batch ended.
        expect((await store.append(send(a, 'u_a', 'a6'))).message.seq).toBe(6);
        expect((await store.append(send(c, 'u_a', 'c3'))).message.seq).toBe(3);
      });

      it('a key twice in one batch stores one message: the second answers created=false with it and takes no seq', async () => {
        const room = newId('r');
        const first = send(room, 'u_a', 'twice', 'the first body');
        const outcomes = await store.appendMany([
          first,
          send(room, 'u_a', 'twice', 'the resent body'),
          send(room, 'u_b', 'twice'), // another sender's key
          send(room, 'u_a', 'after'),
        ]);
        const [one, again, other, after] = outcomes.map(ok);
        expect(one?.created).toBe(true);
        expect(again).toEqual({ created: false, message: one?.message });
        expect(again?.message.body).toBe('the first body');
        expect([other?.created, other?.message.seq]).toEqual([true, 2]);
        expect([after?.created, after?.message.seq]).toEqual([true, 3]);
        expect(await timeline(room)).toEqual(['1:twice', '2:twice', '3:after']);
        expect(await store.lastSeq(room)).toBe(3);
        expect((await store.append(send(room, 'u_a', 'next'))).message.seq).toBe(4);
      });

      it('retries of stored sends in a batch answer with the stored message; the new ones take the next seqs, no gap', async () => {
        const lower = roomInHalf('lower');
        const upper = roomInHalf('upper');
        const stored = await store.append(send(lower, 'u_a', 'k1', '안녕하세요 👋 first'));
        await store.append(send(lower, 'u_b', 'k2'));
        const storedUpper = await store.append(send(upper, 'u_a', 'q1'));
        const results = (
          await store.appendMany([
            send(lower, 'u_a', 'n1'),
            send(lower, 'u_a', 'k1', 'a retried body'),
            send(upper, 'u_a', 'q1'),
            send(upper, 'u_b', 'q2'),
            send(lower, 'u_b', 'n2'),
            send(lower, 'u_a', 'k1'),
          ])
        ).map(ok);
        expect(results.map((r) => [r.created, r.message.seq])).toEqual([
          [true, 3],
          [false, 1],
          [false, 1],
          [true, 2],
          [true, 4],
          [false, 1],
        ]);
        expect(results[1]?.message).toEqual(stored.message);
        expect(results[5]?.message).toEqual(stored.message);
        expect(results[2]?.message).toEqual(storedUpper.message);
        expect(await timeline(lower)).toEqual(['1:k1', '2:k2', '3:n1', '4:n2']);
        expect(await store.lastSeq(lower)).toBe(4);
        expect(await store.lastSeq(upper)).toBe(2);
        expect((await store.append(send(lower, 'u_a', 'n3'))).message.seq).toBe(5);
        expect((await store.append(send(upper, 'u_a', 'q3'))).message.seq).toBe(3);

        // The same in a batch of one room.
        const one = (
          await store.appendMany([send(upper, 'u_a', 'q1'), send(upper, 'u_a', 'q4')])
        ).map(ok);
        expect(one.map((r) => [r.created, r.message.seq])).toEqual([
          [false, 1],
          [true, 4],
        ]);
        expect(await store.lastSeq(upper)).toBe(4);
      });

      it('a batch with nothing new changes nothing; an empty batch answers nothing', async () => {
        const room = newId('r');
        await fill(room, 2);
        const results = (
          await store.appendMany([send(room, 'u_a', 'c2'), send(room, 'u_a', 'c1')])
        ).map(ok);
        expect(results.map((r) => [r.created, r.message.seq])).toEqual([
          [false, 2],
          [false, 1],
        ]);
        expect(await store.lastSeq(room)).toBe(2);
        expect((await store.append(send(room, 'u_a', 'c3'))).message.seq).toBe(3);
        expect(await store.appendMany([])).toEqual([]);
      });

      it('an input whose message id is taken fails alone; the rest of its batch is stored, gap-free', async () => {
        const taken = await store.append(send(roomInHalf('lower'), 'u_a', 'c1'));
        const room = roomInHalf('lower');
        const other = roomInHalf('upper');
        const twin = send(room, 'u_b', 'y');
        const outcomes = await store.appendMany([
          send(room, 'u_a', 'x'),
          { ...send(room, 'u_a', 'bad'), id: taken.message.id },
          send(other, 'u_a', 'z'),
          twin,
          { ...send(room, 'u_c', 'twin'), id: twin.id }, // the same id twice in the batch
          send(room, 'u_a', 'w'),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual([
          'fulfilled',
          'rejected',
          'fulfilled',
          'fulfilled',
          'rejected',
          'fulfilled',
        ]);
        for (const i of [1, 4]) {
          expect((outcomes[i] as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' });
        }
        expect(await timeline(room)).toEqual(['1:x', '2:y', '3:w']);
        expect(await store.lastSeq(room)).toBe(3);
        expect(await timeline(other)).toEqual(['1:z']);
        expect(await store.find(room, 'u_a', 'bad')).toBeUndefined();
      });

      it("concurrent batches and single appends on the same rooms: gap-free seqs, each sender's order", async () => {
        const rooms = [roomInHalf('lower'), roomInHalf('upper'), roomInHalf('lower')];
        const batcher = async (sender: string) => {
          for (let b = 0; b < 10; b++) {
            const batch = Array.from({ length: 6 }, (_, i) =>
              send(rooms[i % 3] as string, sender, `${sender}-${b * 6 + i}`),
            );
            for (const o of await store.appendMany(batch)) ok(o);
          }
        };
        const single = async () => {
          for (let i = 0; i < 30; i++)
            await store.append(send(rooms[0] as string, 'u_s', `u_s-${i}`));
        };
        await Promise.all([batcher('u_a'), batcher('u_b'), single()]);
        for (const [r, room] of rooms.entries()) {
          const { messages } = await store.page(room, { after: 0, limit: 1000 });
          const n = 40 + (r === 0 ? 30 : 0);
          expect(seqs(messages)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          expect(new Set(messages.map((m) => m.id)).size).toBe(n);
          expect(await store.lastSeq(room)).toBe(n);
          for (const sender of ['u_a', 'u_b', 'u_s']) {
            const mine = messages
              .filter((m) => m.senderId === sender)
              .map((m) => Number(m.clientMsgId.split('-')[1]));
            expect(mine).toEqual([...mine].sort((x, y) => x - y));
          }
        }
      });
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
