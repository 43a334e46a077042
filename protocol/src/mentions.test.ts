import { describe, expect, it } from 'vitest';
import { findMentions, mentionedUsernames } from './mentions';

describe('mentions (one definition for notify and the web client)', () => {
  it('finds names at the start and after punctuation or spaces, without a trailing dot', () => {
    expect(findMentions('@ann hi (@bob.) and @carol_1, thanks @dan.')).toEqual([
      { index: 0, name: 'ann' },
      { index: 9, name: 'bob' },
      { index: 20, name: 'carol_1' },
      { index: 37, name: 'dan' },
    ]);
  });

  it('does not take addresses, capitals, too short or too long runs for names', () => {
    for (const text of [
      'mail@example.com',
      '@Alice',
      '@bobX',
      '@al',
      `@${'a'.repeat(33)}`,
      'x@bob',
    ])
      expect(findMentions(text), text).toEqual([]);
  });

  it('counts the first 20 distinct names only', () => {
    const body = Array.from({ length: 500 }, (_, i) => `@user${i % 30}`).join(' ');
    const names = mentionedUsernames(body);
    expect(names).toHaveLength(20);
    expect(names[0]).toBe('user0');
    expect(new Set(names).size).toBe(20);
  });
});
