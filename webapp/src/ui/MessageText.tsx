import { For, Show } from 'solid-js';
import { splitLinks } from './links';

/** A message body as text (never HTML), with http(s) URLs as links that open a new tab. */
export function MessageText(props: { text: string }) {
  return (
    <For each={splitLinks(props.text)}>
      {(part) => (
        <Show when={part.href} fallback={part.text}>
          {(href) => (
            <a href={href()} target="_blank" rel="noopener noreferrer">
              {part.text}
            </a>
          )}
        </Show>
      )}
    </For>
  );
}
