import { For } from 'solid-js';
import { splitMentions } from '../client/mentions';
import { splitLinks, type TextPart } from './links';

type BodyPart = TextPart & { mention?: string };

/**
 * A message body as text (never HTML), with http(s) URLs as links that open a new tab and
 * `@username` of a member of the room (`isMember`) in a span.
 */
export function MessageText(props: { text: string; isMember?: (username: string) => boolean }) {
  const parts = (): BodyPart[] => {
    const isMember = props.isMember;
    const links = splitLinks(props.text);
    if (!isMember) return links;
    return links.flatMap((p): BodyPart[] => (p.href ? [p] : splitMentions(p.text, isMember)));
  };
  return (
    <For each={parts()}>
      {(part) =>
        part.href ? (
          <a href={part.href} target="_blank" rel="noopener noreferrer">
            {part.text}
          </a>
        ) : part.mention ? (
          <span class="mention" data-mention={part.mention}>
            {part.text}
          </span>
        ) : (
          part.text
        )
      }
    </For>
  );
}
