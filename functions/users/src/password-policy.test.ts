import { describe, expect, it } from 'vitest';
import COMMON from './data/common-passwords.json' with { type: 'json' };
import { passwordProblem } from './password-policy';

describe('passwordProblem', () => {
  it.each([
    ['password', 'most common'],
    ['12345678', 'most common'],
    ['Password1', 'most common'],
    ['iloveyou', 'most common'],
    ['qwertyuiop', 'most common'],
    ['        ', 'only spaces'],
    [' \t \u3000    ', 'only spaces'],
    ['frankie99', 'contain the username'],
    ['my-FRANKIE99-pw', 'contain the username'],
    ['aaaaaaaa', 'repeated'],
    ['00000000000', 'repeated'],
    ['abababab', 'repeated'],
    ['12341234', 'repeated'],
    ['xyzwxyzwxy', 'repeated'],
    ['abcdefgh', 'consecutive'],
    ['87654321', 'consecutive'],
    ['LMNOPQRS', 'consecutive'],
  ])('refuses %j for user frankie99 (%s)', (password, why) => {
    expect(passwordProblem(password, 'frankie99')).toContain(why);
  });

  it.each([
    'correct horse battery',
    'wonderland-1',
    'password-123',
    'tr0ub4dor&3-x',
    '김민준의 비밀번호',
    'abcdefgh1',
    'abcabcabcabcX',
  ])('accepts %j', (password) => {
    expect(passwordProblem(password, 'frankie99')).toBeNull();
  });

  it('a short username is matched too: the password may not contain it', () => {
    expect(passwordProblem('ann-is-here-1', 'ann')).toContain('username');
  });

  it('ships a list of many thousand lower-case passwords of at least 8 characters', () => {
    const list = COMMON as string[];
    expect(list.length).toBeGreaterThan(10_000);
    expect(list.every((p) => p.length >= 8 && p === p.toLowerCase())).toBe(true);
  });
});
