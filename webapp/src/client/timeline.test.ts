import type { Message } from '@parley/protocol/model';
import { describe, expect, it } from 'vitest';
import {
  addPending,
  applyAck,
  applyHistory,
  applyMessage,
  applyMessages,
  emptyTimeline,
  entries,
  hasOlder,
  hasSeq,
  lastSeq,
  type PendingMessage,
  reach,
  setPendingStatus,
  type Timeline,
} from './timeline';

const R = 'r_room';
const msg = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `m_${seq}`,
  roomId: R,
  seq,
  senderId: 'u_other',
  body: `message ${seq}`,
  ts: 1000 + seq,
  clientMsgId: `c_${seq}`,
  ...over,
});
const pending = (clientMsgId: string, over: Partial<PendingMessage> = {}): PendingMessage => ({
  clientMsgId,
  roomId: R,
  senderId: 'u_me',
  body: `body of ${clientMsgId}`,
  ts: 5000,
  status: 'pending',
  ...over,
});
const loaded = (...seqs: number[]): Timeline =>
  applyHistory(emptyTimeline(R), { messages: seqs.map((s) => msg(s)), hasMore: false }, 'older')
    .timeline;
const seqs = (t: Timeline) => t.messages.map((m) => m.seq);

describe('timeline', () => {
  it('keeps confirmed messages in seq order whatever order they arrive in', () => {
    let t = loaded(1, 2);
    t = applyMessage(t, msg(4)).timeline;
    t = applyMessage(t, msg(3)).timeline;
    expect(seqs(t)).toEqual([1, 2, 3, 4]);
  });

  it('shows a message delivered twice once', () => {
    let t = loaded(1, 2);
    t = applyMessage(t, msg(3)).timeline;
    t = applyMessages(t, [msg(2), msg(3)]).timeline;
    expect(seqs(t)).toEqual([1, 2, 3]);
  });

  it('keeps the same object when nothing changed, so the UI does not re-render', () => {
    const t = loaded(1, 2);
    expect(applyMessage(t, msg(2)).timeline).toBe(t);
  });

  it('replaces a message by its later edit', () => {
    const t = applyMessage(loaded(1), msg(1, { body: 'fixed', editedTs: 9 })).timeline;
    expect(t.messages[0]?.body).toBe('fixed');
  });

  it('keeps pending sends after the confirmed messages, in send order', () => {
    let t = addPending(loaded(1), pending('a'));
    t = addPending(t, pending('b'));
    t = applyMessage(t, msg(2)).timeline;
    expect(entries(t).map((e) => ('seq' in e ? e.seq : e.clientMsgId))).toEqual([1, 2, 'a', 'b']);
  });

  it('turns a pending send into a confirmed message on its ack, shown once', () => {
    let t = addPending(loaded(1), pending('a', { body: 'hello' }));
    t = applyAck(t, { clientMsgId: 'a', id: 'm_x', seq: 2, ts: 7777 }).timeline;
    expect(t.pending).toEqual([]);
    expect(t.messages.at(-1)).toEqual({
      id: 'm_x',
      roomId: R,
      seq: 2,
      senderId: 'u_me',
      body: 'hello',
      ts: 7777,
      clientMsgId: 'a',
    });
    // The echo of the same message (another socket, a sync) changes nothing.
    const echoed = applyMessage(t, { ...(t.messages.at(-1) as Message) }).timeline;
    expect(entries(echoed)).toHaveLength(2);
  });

  it('replaces a pending send by its echo when the ack was lost (sync after a reconnect)', () => {
    let t = addPending(loaded(1), pending('a'));
    t = applyMessages(t, [msg(2, { senderId: 'u_me', clientMsgId: 'a' })]).timeline;
    expect(t.pending).toEqual([]);
    expect(seqs(t)).toEqual([1, 2]);
  });

  it('does not take another sender’s message with the same clientMsgId for ours', () => {
    let t = addPending(loaded(1), pending('a'));
    t = applyMessage(t, msg(2, { senderId: 'u_other', clientMsgId: 'a' })).timeline;
    expect(t.pending.map((p) => p.clientMsgId)).toEqual(['a']);
  });

  it('ignores an ack whose send was already confirmed', () => {
    const t = loaded(1);
    const a = applyAck(t, { clientMsgId: 'gone', id: 'm_9', seq: 9, ts: 1 });
    expect(a).toEqual({ timeline: t, gap: false });
  });

  it('marks a pending send failed, then pending again on retry, keeping its place', () => {
    let t = addPending(addPending(loaded(1), pending('a')), pending('b'));
    t = setPendingStatus(t, 'a', 'failed', 'Not sent');
    expect(t.pending.map((p) => [p.clientMsgId, p.status, p.error])).toEqual([
      ['a', 'failed', 'Not sent'],
      ['b', 'pending', undefined],
    ]);
    t = setPendingStatus(t, 'a', 'pending');
    expect(t.pending[0]).toEqual(pending('a'));
  });

  it('a failed send still becomes confirmed if its ack comes late', () => {
    let t = setPendingStatus(addPending(loaded(1), pending('a')), 'a', 'failed');
    t = applyAck(t, { clientMsgId: 'a', id: 'm_2', seq: 2, ts: 1 }).timeline;
    expect(t.pending).toEqual([]);
    expect(seqs(t)).toEqual([1, 2]);
  });

  describe('gaps', () => {
    it('reports a gap when a seq is skipped, and where to sync from', () => {
      const a = applyMessage(loaded(1, 2), msg(5));
      expect(a.gap).toBe(true);
      expect(lastSeq(a.timeline)).toBe(2);
    });

    it('reports no gap for the next seq', () => {
      expect(applyMessage(loaded(1, 2), msg(3)).gap).toBe(false);
    });

    it('reports a gap after an ack that skips a seq', () => {
      const t = addPending(loaded(1), pending('a'));
      expect(applyAck(t, { clientMsgId: 'a', id: 'm_3', seq: 3, ts: 1 }).gap).toBe(true);
    });

    it('closes the gap once the missing messages arrive', () => {
      let t = applyMessage(loaded(1, 2), msg(5)).timeline;
      const a = applyMessages(t, [msg(3), msg(4), msg(5)]);
      t = a.timeline;
      expect(a.gap).toBe(false);
      expect(lastSeq(t)).toBe(5);
    });

    it('cannot know of a gap before the latest page has arrived', () => {
      expect(applyMessage(emptyTimeline(R), msg(7)).gap).toBe(false);
    });

    it('a message arriving before the history page merges with it', () => {
      let t = applyMessage(emptyTimeline(R), msg(4)).timeline;
      const a = applyHistory(t, { messages: [msg(2), msg(3)], hasMore: true }, 'older');
      t = a.timeline;
      expect(seqs(t)).toEqual([2, 3, 4]);
      expect(a.gap).toBe(false);
    });
  });

  describe('history', () => {
    it('says whether older messages exist from the latest and the older pages', () => {
      let t = applyHistory(
        emptyTimeline(R),
        { messages: [msg(51), msg(52)], hasMore: true },
        'older',
      ).timeline;
      expect(hasOlder(t)).toBe(true);
      t = applyHistory(t, { messages: [msg(49), msg(50)], hasMore: false }, 'older').timeline;
      expect(hasOlder(t)).toBe(false);
      expect(seqs(t)).toEqual([49, 50, 51, 52]);
    });

    it('a newer page says nothing about older history', () => {
      let t = applyHistory(
        emptyTimeline(R),
        { messages: [msg(5)], hasMore: true },
        'older',
      ).timeline;
      t = applyHistory(t, { messages: [msg(6)], hasMore: false }, 'newer').timeline;
      expect(hasOlder(t)).toBe(true);
    });

    it('has nothing older once seq 1 is there', () => {
      const t = applyHistory(
        emptyTimeline(R),
        { messages: [msg(1)], hasMore: true },
        'older',
      ).timeline;
      expect(hasOlder(t)).toBe(false);
    });

    it('an empty room is loaded with seq 0', () => {
      const t = applyHistory(emptyTimeline(R), { messages: [], hasMore: false }, 'older').timeline;
      expect(t.loaded).toBe(true);
      expect(lastSeq(t)).toBe(0);
    });
  });

  describe('reaching a message (opening a room at it)', () => {
    const page = (from: number, to: number, hasMore: boolean) => ({
      messages: Array.from({ length: to - from + 1 }, (_, i) => msg(from + i)),
      hasMore,
    });
    const latest = applyHistory(emptyTimeline(R), page(201, 250, true), 'older').timeline;

    it('knows which seqs it holds', () => {
      expect(hasSeq(latest, 201)).toBe(true);
      expect(hasSeq(latest, 250)).toBe(true);
      expect(hasSeq(latest, 200)).toBe(false);
      expect(hasSeq(emptyTimeline(R), 1)).toBe(false);
    });

    it('a message held needs nothing', () => {
      expect(reach(latest, 230, 100, 10)).toEqual({ kind: 'present' });
    });

    it('an older one needs the page before the first held, just long enough, capped', () => {
      expect(reach(latest, 195, 100, 10)).toEqual({ kind: 'older', before: 201, limit: 16 });
      expect(reach(latest, 42, 100, 10)).toEqual({ kind: 'older', before: 201, limit: 100 });
      // Paging there keeps the timeline one continuous run: no gap to sync.
      const a = applyHistory(latest, page(101, 200, true), 'older');
      expect(a.gap).toBe(false);
      expect(reach(a.timeline, 42, 100, 10)).toEqual({ kind: 'older', before: 101, limit: 69 });
      const b = applyHistory(a.timeline, page(32, 100, true), 'older');
      expect(b.gap).toBe(false);
      expect(lastSeq(b.timeline)).toBe(250);
      expect(reach(b.timeline, 42, 100, 10)).toEqual({ kind: 'present' });
    });

    it('a newer one, or one in a hole, comes with the live stream or a sync', () => {
      expect(reach(latest, 251, 100)).toEqual({ kind: 'newer' });
      const holed = applyMessage(latest, msg(255)).timeline;
      expect(reach(holed, 253, 100)).toEqual({ kind: 'newer' });
      expect(reach(emptyTimeline(R), 3, 100)).toEqual({ kind: 'newer' });
    });

    it('one older than the room’s first message cannot be reached', () => {
      const all = applyHistory(emptyTimeline(R), page(5, 9, false), 'older').timeline;
      expect(reach(all, 2, 100)).toEqual({ kind: 'missing' });
    });
  });
});
