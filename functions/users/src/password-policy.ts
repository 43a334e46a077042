/**
 * What sign-up refuses as a password, beyond the length rule of the protocol (8 – 256): the
 * advice of NIST SP 800-63B §5.1.1.2 — check new passwords against values known to be commonly
 * used or compromised, and against context-specific words — without composition rules.
 *
 * - one of the 17,950 most common leaked passwords of 8+ characters (data/common-passwords.json,
 *   compared case-insensitively: the list is lower-case, and `Password1` is as weak as `password1`);
 * - equal to or containing the username (case-insensitively);
 * - only whitespace;
 * - one character, or a pattern of at most four, repeated (`aaaaaaaa`, `12121212`, `abcdabcd`);
 * - a straight run of consecutive characters (`abcdefgh`, `87654321`).
 *
 * The last two are checked here because the list leaves them out (its makers drop what a
 * pattern matcher finds anyway). Login is never checked: an old password still logs in.
 */
import COMMON from './data/common-passwords.json' with { type: 'json' };

const common: ReadonlySet<string> = new Set(COMMON as string[]);

/** The longest unit a "repeated pattern" may have. */
const MAX_REPEATED_UNIT = 4;

/**
 * Why `password` is refused for `username`, as a sentence for the client; null when it is fine.
 * @example passwordProblem('password1', 'alice') // 'this password is one of the most common …'
 */
export function passwordProblem(password: string, username: string): string | null {
  const normal = password.normalize('NFKC');
  const lower = normal.toLowerCase();
  const chars = [...normal];
  if (normal.trim() === '') return 'password must not be only spaces';
  if (common.has(lower)) {
    return 'this password is one of the most common passwords and easy to guess; choose another';
  }
  if (username !== '' && lower.includes(username.toLowerCase())) {
    return 'password must not contain the username';
  }
  if (isRepetition(chars)) {
    return 'password must not be one character or a short pattern repeated';
  }
  if (isStraightRun(chars)) {
    return 'password must not be a run of consecutive characters such as abcdefgh or 87654321';
  }
  return null;
}

/** `chars` is a unit of at most MAX_REPEATED_UNIT characters repeated (the last copy may be cut short). */
function isRepetition(chars: readonly string[]): boolean {
  for (let unit = 1; unit <= MAX_REPEATED_UNIT && unit * 2 <= chars.length; unit++) {
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}

/** Every character is the previous one plus one, or every one is the previous minus one. */
function isStraightRun(chars: readonly string[]): boolean {
  const codes = chars.map((c) => c.toLowerCase().codePointAt(0) ?? 0);
  const step = (codes[1] ?? 0) - (codes[0] ?? 0);
  if (step !== 1 && step !== -1) return false;
  return codes.every((c, i) => i === 0 || c - (codes[i - 1] ?? 0) === step);
}
