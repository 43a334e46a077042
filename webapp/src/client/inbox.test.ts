import type { Notification } from '@parley/protocol/model';
import { describe, expect, it } from 'vitest';
import { markRead, mergeNotifications } from './inbox';

const n = (id: string, ts: number, over: Partial<Notification> = {}): Notification => ({
  kind: 'mention',
  messageId: id,
  roomId: 'r_1',
  seq: ts,
  senderId: 'u_bob',
  excerpt: `@ann ${id}`,
  ts,
  read: false,
  ...over,
});

describe('mergeNotifications', () => {
  it('keeps one entry per message, newest first, the incoming one winning', () => {
    const have = [n('m3', 30), n('m1', 10)];
    const merged = mergeNotifications(have, [n('m2', 20), n('m3', 30, { read: true })]);
    expect(merged.map((x) => [x.messageId, x.read])).toEqual([
      ['m3', true],
      ['m2', false],
      ['m1', false],
    ]);
  });

  it('orders entries of the same time by message id, newest id first', () => {
    expect(mergeNotifications([n('m_a', 5)], [n('m_b', 5)]).map((x) => x.messageId)).toEqual([
      'm_b',
      'm_a',
    ]);
  });
});

describe('markRead', () => {
  it('marks the entries selected and counts those that were unread', () => {
    const items = [n('m1', 1), n('m2', 2, { read: true }), n('m3', 3, { roomId: 'r_2' })];
    const r = markRead(items, (x) => x.roomId === 'r_1');
    expect(r.marked).toBe(1);
    expect(r.items.map((x) => x.read)).toEqual([true, true, false]);
  });

  it('returns the same list when nothing changes', () => {
    const items = [n('m1', 1, { read: true })];
    expect(markRead(items, () => true).items).toBe(items);
  });
});
