import { createMemo } from 'solid-js';
import { typingText } from '../client/indicators';
import { useChat } from './context';

/**
 * "X is typing…" under a room's messages. Always in the page, empty when nobody types, so a
 * screen reader announces changes (politely) without moving anything on screen.
 */
export function TypingLine(props: { roomId: string }) {
  const { state } = useChat();
  const text = createMemo(() => {
    const ids = state().typing[props.roomId] ?? [];
    const users = state().users;
    return typingText(ids.map((id) => users[id]?.displayName ?? 'Someone'));
  });
  return (
    <div class="typing-line" data-testid="typing-line" aria-live="polite">
      {text()}
    </div>
  );
}
