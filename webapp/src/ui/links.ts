/**
 * Splits message text into plain runs and http(s) links. The UI renders both
 * as text nodes (a link's text inside an <a>), never as HTML, so a message
 * cannot inject markup; other schemes (javascript:, data:) stay plain text.
 */
export interface TextPart {
  text: string;
  href?: string;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that usually ends the sentence around a link rather than the link itself. */
const TRAILING = /[.,;:!?'")\]}>]+$/;

export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    const trail = TRAILING.exec(url)?.[0] ?? '';
    url = url.slice(0, url.length - trail.length);
    // Keep a closing parenthesis that the link itself opened (Wikipedia-style URLs).
    if (trail.startsWith(')') && url.includes('(') && !url.includes(')')) url += ')';
    if (!isHttpUrl(url)) continue;
    const start = m.index;
    if (start > at) parts.push({ text: text.slice(at, start) });
    parts.push({ text: url, href: url });
    at = start + url.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}
