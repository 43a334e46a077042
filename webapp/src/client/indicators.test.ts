import { describe, expect, it } from 'vitest';
import { documentTitle, seenMessageId, shownUnread, totalUnread, typingText } from './indicators';

describe('documentTitle', () => {
  it('counts unread messages in front of the name, and says nothing without any', () => {
    expect(documentTitle(3)).toBe('(3) Parley');
    expect(documentTitle(1)).toBe('(1) Parley');
    expect(documentTitle(0)).toBe('Parley');
    expect(documentTitle(-2)).toBe('Parley');
    expect(documentTitle(120, 'Chat')).toBe('(120) Chat');
  });
});

describe('unread counts shown', () => {
  const rooms = [
    { id: 'a', unread: 2 },
    { id: 'b', unread: 5 },
    { id: 'c', unread: 0 },
  ];

  it('adds every room up when none is being read', () => {
    expect(totalUnread(rooms, null)).toBe(7);
    expect(totalUnread([], null)).toBe(0);
  });

  it('leaves out the room being read (its read is on the way)', () => {
    expect(shownUnread({ id: 'b', unread: 5 }, 'b')).toBe(0);
    expect(shownUnread({ id: 'b', unread: 5 }, 'a')).toBe(5);
    expect(totalUnread(rooms, 'b')).toBe(2);
  });

  it('never shows a negative count', () => {
    expect(shownUnread({ id: 'x', unread: -1 }, null)).toBe(0);
  });
});

describe('typingText', () => {
  it('names one or two people, and stops naming at three', () => {
    expect(typingText([])).toBe('');
    expect(typingText(['Ann'])).toBe('Ann is typing…');
    expect(typingText(['Ann', 'Bob'])).toBe('Ann and Bob are typing…');
    expect(typingText(['Ann', 'Bob', 'Cyd'])).toBe('Several people are typing…');
    expect(typingText(['Ann', 'Bob', 'Cyd', 'Dee'])).toBe('Several people are typing…');
  });
});

describe('seenMessageId', () => {
  const ms = [
    { id: 'm1', seq: 1, senderId: 'me' },
    { id: 'm2', seq: 2, senderId: 'bob' },
    { id: 'm3', seq: 3, senderId: 'me' },
    { id: 'm4', seq: 4, senderId: 'me' },
    { id: 'm5', seq: 5, senderId: 'bob' },
  ];

  it('is my last message at or below the other member’s read seq', () => {
    expect(seenMessageId(ms, 'me', 5)).toBe('m4');
    expect(seenMessageId(ms, 'me', 4)).toBe('m4');
    expect(seenMessageId(ms, 'me', 3)).toBe('m3');
    expect(seenMessageId(ms, 'me', 2)).toBe('m1');
  });

  it('is none before they read any of mine, or when their read seq is unknown', () => {
    expect(seenMessageId(ms, 'me', 0)).toBeNull();
    expect(seenMessageId(ms, 'me', undefined)).toBeNull();
    expect(seenMessageId(ms, 'carol', 5)).toBeNull();
  });
});
