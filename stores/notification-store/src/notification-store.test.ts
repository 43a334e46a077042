import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, excerptOf, isAfter } from './notification-store';

describe('inbox cursors', () => {
  it('round-trip a position, message ids with dots excluded by the id alphabet', () => {
    const p = { ts: 1_700_000_000_123, messageId: 'm_Ab-9' };
    expect(encodeCursor(p)).toBe('1700000000123.m_Ab-9');
    expect(decodeCursor(encodeCursor(p))).toEqual(p);
  });

  it.each(['', '12', '.m_1', '12.', 'x.m_1', '12.m 1', '12.m_1.2', `${'1'.repeat(17)}.m_1`])(
    'refuse %j with bad_request',
    (cursor) => {
      expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    },
  );

  it('order older entries after a position: lower ts, or the same ts and a lower id', () => {
    const p = { ts: 10, messageId: 'm_b' };
    expect(isAfter({ ts: 9, messageId: 'm_z' }, p)).toBe(true);
    expect(isAfter({ ts: 10, messageId: 'm_a' }, p)).toBe(true);
    expect(isAfter({ ts: 10, messageId: 'm_b' }, p)).toBe(false);
    expect(isAfter({ ts: 10, messageId: 'm_c' }, p)).toBe(false);
    expect(isAfter({ ts: 11, messageId: 'm_a' }, p)).toBe(false);
  });
});

describe('excerptOf', () => {
  it('keeps the first 200 code points, never half an emoji', () => {
    expect(excerptOf('short')).toBe('short');
    const emoji = excerptOf('🦊'.repeat(250));
    expect(Array.from(emoji)).toHaveLength(200);
    expect(emoji).toBe('🦊'.repeat(200));
    expect(excerptOf(`${'a'.repeat(199)}🦊🦊`)).toBe(`${'a'.repeat(199)}🦊`);
  });
});
