/**
 * Which `@username`s a message body names: plain string work, no I/O.
 *
 * A mention is `@` at the start of the body or after a character that cannot
 * be part of a name or an address (not A-Z a-z 0-9 _ . -), then a username:
 * 3–32 of a-z 0-9 _ . - (usernames are stored lower-case), ending where the
 * name's characters end. So `mail@example.com`, `@Alice` and a 40-character
 * run are not mentions. A trailing `.` is sentence punctuation, not part of
 * the name (`thanks @bob.` names bob).
 *
 * Only the first LIMITS.mentionsPerMessageMax distinct names count: a body
 * naming 500 users costs 20 look-ups, never 500.
 */
import { LIMITS } from '@parley/protocol';

const MENTION = /(?<![A-Za-z0-9_.-])@([a-z0-9_.-]{3,32})(?![A-Za-z0-9_.-])/g;

/**
 * The distinct usernames a body mentions, in order of first appearance, at most `max`.
 * @example mentionedUsernames('hi @bob and @carol.') // ['bob', 'carol']
 */
export function mentionedUsernames(body: string, max: number = LIMITS.mentionsPerMessageMax) {
  const names = new Set<string>();
  for (const m of body.matchAll(MENTION)) {
    if (names.size >= max) break;
    const name = (m[1] as string).replace(/\.+$/, '');
    if (name.length >= LIMITS.usernameMinChars) names.add(name);
  }
  return [...names];
}
