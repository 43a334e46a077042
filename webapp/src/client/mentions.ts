/**
 * `@username` mentions in message text, by the protocol's one definition (protocol/src/mentions.ts,
 * the same notify uses to decide who is notified). Only the names the caller accepts (the members
 * of the room) count, so `@nobody` stays plain text.
 */
import { findMentions } from '@parley/protocol/mentions';

export interface MentionPart {
  text: string;
  /** The username this part mentions (the text is `@` + it). */
  mention?: string;
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
  for (const { index, name } of findMentions(text)) {
    if (!isMember(name)) continue;
    if (index > at) parts.push({ text: text.slice(at, index) });
    parts.push({ text: `@${name}`, mention: name });
    at = index + 1 + name.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/** Whether the text mentions `username`. */
export function mentions(text: string, username: string): boolean {
  return splitMentions(text, (n) => n === username).some((p) => p.mention !== undefined);
}
