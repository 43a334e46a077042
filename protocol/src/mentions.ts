/**
 * `@username` mentions, one definition for the server (notify: who gets an inbox entry) and the
 * web client (what is highlighted), so the two never disagree. No zod here: the web client
 * imports this file.
 *
 * A mention is `@` at the start of the text or after a character that cannot be part of a name
 * or an address (not A-Z a-z 0-9 _ . -), then a username: 3–32 of a-z 0-9 _ . - (usernames are
 * lower-case), ending where the name's characters end. So `mail@example.com`, `@Alice`, `@bobX`
 * and a 40-character run are not mentions. A trailing `.` is sentence punctuation, not part of the
 * name (`thanks @bob.` names bob); a username that itself ends in `.` cannot be mentioned.
 */
import { LIMITS } from './limits';

const MENTION = /(?<![A-Za-z0-9_.-])@([a-z0-9_.-]{3,32})(?![A-Za-z0-9_.-])/g;

export interface MentionMatch {
  /** Where its `@` is in the text. */
  index: number;
  /** The username (without the `@` and without trailing dots). */
  name: string;
}

/**
 * Every mention of the text, in order (names may repeat).
 * @example findMentions('hi @bob.') // [{ index: 3, name: 'bob' }]
 */
export function findMentions(text: string): MentionMatch[] {
  const out: MentionMatch[] = [];
  for (const m of text.matchAll(MENTION)) {
    const name = (m[1] as string).replace(/\.+$/, '');
    if (name.length >= LIMITS.usernameMinChars) out.push({ index: m.index, name });
  }
  return out;
}

/**
 * The distinct usernames a text mentions, in order of first appearance, at most `max` (notify
 * looks up only these: a body naming 500 users costs 20 look-ups).
 * @example mentionedUsernames('hi @bob and @carol.') // ['bob', 'carol']
 */
export function mentionedUsernames(
  text: string,
  max: number = LIMITS.mentionsPerMessageMax,
): string[] {
  const names = new Set<string>();
  for (const { name } of findMentions(text)) {
    if (names.size >= max) break;
    names.add(name);
  }
  return [...names];
}
