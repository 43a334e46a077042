import { LIMITS } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { mentionedUsernames } from './mentions';

describe('mentionedUsernames', () => {
  it.each([
    ['@bob hi', ['bob']],
    ['hi @bob, @carol and @dave!', ['bob', 'carol', 'dave']],
    ['(@bob) [@carol] "@dave" 김@erin', ['bob', 'carol', 'dave', 'erin']],
    ['dots, dashes, underscores: @a.b-c_d', ['a.b-c_d']],
    ['thanks @bob.', ['bob']],
    ['see @bob... later', ['bob']],
    ['line\n@bob\t@carol', ['bob', 'carol']],
    ['@bob @carol @bob @carol', ['bob', 'carol']],
    [`@${'a'.repeat(32)} is long`, ['a'.repeat(32)]],
  ])('%j names %j', (body, names) => {
    expect(mentionedUsernames(body)).toEqual(names);
  });

  it.each([
    ['an e-mail address', 'write to mail@example.com'],
    ['a name after a word character', 'x@bob _@bob 9@bob'],
    ['a name after a dot or a dash', '.@bob -@bob'],
    ['an upper-case name (usernames are lower-case)', '@Bob @BOB @boB'],
    ['a name too short', '@ab @a. @'],
    ['a name too long', `@${'a'.repeat(33)}`],
    ['a lone at sign', 'me @ home'],
  ])('%s is not a mention', (_, body) => {
    expect(mentionedUsernames(body)).toEqual([]);
  });

  it(`counts only the first ${LIMITS.mentionsPerMessageMax} distinct names`, () => {
    const body = Array.from({ length: 500 }, (_, i) => `@user${i} @user${i % 3}`).join(' ');
    const names = mentionedUsernames(body);
    expect(names).toHaveLength(LIMITS.mentionsPerMessageMax);
    expect(names).toEqual(Array.from({ length: 20 }, (_, i) => `user${i}`));
  });
});
