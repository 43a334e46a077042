import type { Message, Room, User } from '@parley/protocol/model';
import { describe, expect, it } from 'vitest';
import { upsertRoom, withMessage, withUnread } from './room-list';

const me: User = { id: 'u_me', username: 'me', displayName: 'Mia' };
const room: Room = { id: 'r_1', name: 'General', kind: 'group', memberCount: 2, lastSeq: 4 };
const msg = (seq: number): Message => ({
  id: `m_${seq}`,
  roomId: room.id,
  seq,
  senderId: 'u_bob',
  body: 'hi',
  ts: 1_700_000_000_000 + seq,
  clientMsgId: `c_${seq}`,
});

describe('unread counts in the room list', () => {
  it('takes the count of a listing at least as recent as what is known', () => {
    const first = upsertRoom([], { ...room, unread: 3 }, me, undefined, 0);
    expect(first[0]?.unread).toBe(3);
    const again = upsertRoom(first, { ...room, unread: 1 }, me, undefined, 0);
    expect(again[0]?.unread).toBe(1);
  });

  it('keeps the count when the listing is older than a message already seen', () => {
    let rooms = upsertRoom([], { ...room, unread: 0 }, me, undefined, 0);
    rooms = withMessage(rooms, msg(5)) ?? [];
    rooms = withUnread(rooms, room.id, 1);
    // A listing read before message 5 arrived.
    rooms = upsertRoom(rooms, { ...room, lastSeq: 4, unread: 0 }, me, undefined, 0);
    expect(rooms[0]).toMatchObject({ lastSeq: 5, unread: 1 });
  });

  it('a room frame (no count) keeps the count', () => {
    let rooms = upsertRoom([], { ...room, unread: 2 }, me, undefined, 0);
    rooms = upsertRoom(rooms, room, me, undefined, 0);
    expect(rooms[0]?.unread).toBe(2);
  });

  it('withUnread sets one room, never below zero, and leaves the list alone when nothing changes', () => {
    const rooms = upsertRoom([], { ...room, unread: 2 }, me, undefined, 0);
    expect(withUnread(rooms, room.id, 2)).toBe(rooms);
    expect(withUnread(rooms, 'r_unknown', 7)).toBe(rooms);
    expect(withUnread(rooms, room.id, -3)[0]?.unread).toBe(0);
    expect(withUnread(rooms, room.id, 9)[0]?.unread).toBe(9);
  });
});
