/**
 * `@username` mentions in message text, as docs/notifications.md defines them: a-z 0-9 _ . -,
 * 3–32 characters, after a non-word character or at the start of the text. Only the names the
 * caller accepts (the members of the room) count, so `@nobody` stays plain text, and so does the
 * `@` of an e-mail address (`ann@example.org`: a word character before it).
 */
import { LIMITS } from '@parley/protocol/limits';

export interface MentionPart {
  text: string;
  /** The username this part mentions (the text is `@` + it). */
  mention?: string;
}

const CANDIDATE_RE = /(?<!\w)@([a-z0-9_.-]+)/g;
/** A sentence may end right after a name ("thanks @ann."): that dot is not part of it. */
const TRAILING_PUNCTUATION = /[.-]+$/;

const fits = (name: string) =>
  name.length >= LIMITS.usernameMinChars && name.length <= LIMITS.usernameMaxChars;

/** The name a candidate run mentions: the run itself, else without trailing punctuation; or null. */
function resolve(run: string, isMember: (username: string) => boolean): string | null {
  if (fits(run) && isMember(run)) return run;
  const trimmed = run.replace(TRAILING_PUNCTUATION, '');
  if (trimmed !== run && fits(trimmed) && isMember(trimmed)) return trimmed;
  return null;
}

/**
 * Splits text into plain runs and mentions of the names `isMember` accepts. Rendered as text
 * (a mention's text inside a span), never as HTML.
 */
export function splitMentions(
  text: string,
  isMember: (username: string) => boolean,
): MentionPart[] {
  const parts: MentionPart[] = [];
  let at = 0;
  for (const m of text.matchAll(CANDIDATE_RE)) {
    const name = resolve(m[1] ?? '', isMember);
    if (!name) continue;
    if (m.index > at) parts.push({ text: text.slice(at, m.index) });
    parts.push({ text: `@${name}`, mention: name });
    at = m.index + 1 + name.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/** Whether the text mentions `username`. */
export function mentions(text: string, username: string): boolean {
  return splitMentions(text, (n) => n === username).some((p) => p.mention !== undefined);
}
