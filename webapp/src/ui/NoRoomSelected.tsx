import { Show } from 'solid-js';
import { useChat } from './context';
import { EmptyState } from './EmptyState';

/**
 * The chat pane before a room is opened (wide screens; a phone shows the
 * list instead). No buttons of its own: "New room" and "New message" are
 * in the list, and a second pair would share their accessible names.
 */
export function NoRoomSelected() {
  const { state } = useChat();
  return (
    <main class="chat chat-empty">
      <h2 class="visually-hidden">No conversation open</h2>
      <Show
        when={state().rooms.length > 0}
        fallback={
          <EmptyState icon="chat" title="Start your first conversation">
            Use <strong>New room</strong> to chat with a group, or <strong>New message</strong> to
            write to one person.
          </EmptyState>
        }
      >
        <EmptyState icon="chat" title="Pick a conversation">
          Choose a room from the list, or start a new one.
        </EmptyState>
      </Show>
    </main>
  );
}
