import { describe, expect, it } from 'vitest';
import { mentions, splitMentions } from './mentions';

const members = new Set(['ann', 'bob.smith', 'cyd-2', 'user1']);
const isMember = (n: string) => members.has(n);

describe('splitMentions', () => {
  it('marks @username of a member, keeping the text around it', () => {
    expect(splitMentions('@user1 hello', isMember)).toEqual([
      { text: '@user1', mention: 'user1' },
      { text: ' hello' },
    ]);
    expect(splitMentions('hi @ann and @bob.smith!', isMember)).toEqual([
      { text: 'hi ' },
      { text: '@ann', mention: 'ann' },
      { text: ' and ' },
      { text: '@bob.smith', mention: 'bob.smith' },
      { text: '!' },
    ]);
  });

  it('leaves names that are not members, too short or too long as text', () => {
    expect(splitMentions('@nobody @an @ann', isMember)).toEqual([
      { text: '@nobody @an ' },
      { text: '@ann', mention: 'ann' },
    ]);
    const long = `@${'a'.repeat(33)}`;
    expect(splitMentions(long, () => true)).toEqual([{ text: long }]);
  });

  it('needs a non-word character (or the start) before the @: an e-mail address is not a mention', () => {
    expect(splitMentions('mail ann@example.org', () => true)).toEqual([
      { text: 'mail ann@example.org' },
    ]);
    expect(splitMentions('(@ann)', isMember)).toEqual([
      { text: '(' },
      { text: '@ann', mention: 'ann' },
      { text: ')' },
    ]);
  });

  it('a sentence ending right after a name does not hide it', () => {
    expect(splitMentions('thanks @ann.', isMember)).toEqual([
      { text: 'thanks ' },
      { text: '@ann', mention: 'ann' },
      { text: '.' },
    ]);
    expect(splitMentions('ask @cyd-2...', isMember)).toEqual([
      { text: 'ask ' },
      { text: '@cyd-2', mention: 'cyd-2' },
      { text: '...' },
    ]);
  });

  it('usernames are lower case: @Ann is text', () => {
    expect(splitMentions('@Ann', isMember)).toEqual([{ text: '@Ann' }]);
  });

  it('markup stays text', () => {
    const body = '<img src=x onerror=alert(1)> @ann';
    const parts = splitMentions(body, isMember);
    expect(parts.map((p) => p.text).join('')).toBe(body);
    expect(parts[0]).toEqual({ text: '<img src=x onerror=alert(1)> ' });
  });
});

describe('mentions', () => {
  it('says whether the text mentions a username', () => {
    expect(mentions('hey @user1, look', 'user1')).toBe(true);
    expect(mentions('hey @user10', 'user1')).toBe(false);
    expect(mentions('user1 without the at', 'user1')).toBe(false);
  });
});
