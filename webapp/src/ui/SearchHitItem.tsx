import { For, Show } from 'solid-js';
import type { SearchHit } from '../client/api';
import { snippetOf } from '../client/search';
import { useChat } from './context';
import { formatFull, formatListTime } from './format';

/**
 * One search result, a button that opens the room at the message: the room,
 * the sender when known, the time, and the text with what the query found in
 * <mark>. Every piece is text, never HTML. The data-* attributes are a
 * contract with the browser tests.
 */
export function SearchHitItem(props: { hit: SearchHit; onOpen: () => void }) {
  const { state } = useChat();
  const m = () => props.hit.message;
  const room = () => state().rooms.find((r) => r.id === m().roomId)?.displayName ?? 'A room';
  const sender = () => {
    if (m().senderId === state().session?.user.id) return 'You';
    return state().users[m().senderId]?.displayName ?? null;
  };
  const snippet = () => snippetOf(props.hit);
  return (
    <button
      class="hit"
      type="button"
      data-testid="search-hit"
      data-message-id={m().id}
      data-room-id={m().roomId}
      onClick={() => props.onOpen()}
    >
      <span class="hit-head">
        <span class="hit-room">{room()}</span>
        <Show when={sender()}>{(name) => <span class="hit-sender">{name()}</span>}</Show>
        <time class="hit-time" datetime={new Date(m().ts).toISOString()} title={formatFull(m().ts)}>
          {formatListTime(m().ts)}
        </time>
      </span>
      <span class="hit-text">
        <Show when={!m().deleted} fallback={<em class="muted">This message was deleted.</em>}>
          <Show when={snippet().cut.start}>…</Show>
          <For each={snippet().segments}>{(s) => (s.match ? <mark>{s.text}</mark> : s.text)}</For>
          <Show when={snippet().cut.end}>…</Show>
        </Show>
      </span>
    </button>
  );
}
