import { createMemo, createSignal, Show } from 'solid-js';
import { errorText } from '../client/error-text';
import { Composer } from './Composer';
import { useChat } from './context';
import { Icon } from './Icon';
import { MessageList } from './MessageList';

/** One open room: its header and actions, its messages, the composer. */
export function ChatView(props: { roomId: string; onInvite: () => void }) {
  const { store, state } = useChat();
  const room = createMemo(() => state().rooms.find((r) => r.id === props.roomId));
  const [error, setError] = createSignal<string | null>(null);
  const [leaving, setLeaving] = createSignal(false);
  const name = () => room()?.displayName ?? '';
  const subtitle = () => {
    const r = room();
    if (!r) return '';
    if (r.kind === 'dm') return 'Direct message';
    return r.memberCount === 1 ? 'Only you' : `${r.memberCount} members`;
  };

  const leave = async () => {
    setLeaving(true);
    setError(null);
    try {
      await store.leave(props.roomId);
    } catch (err) {
      setError(errorText(err));
      setLeaving(false);
    }
  };

  return (
    <main class="chat" aria-labelledby="chat-title">
      <div class="chat-head">
        <button
          class="btn btn-icon back"
          type="button"
          aria-label="Back to rooms"
          onClick={() => store.selectRoom(null)}
        >
          <Icon name="back" size={20} />
        </button>
        <div class="chat-title-wrap">
          <h2 id="chat-title" class="chat-title">
            {name()}
          </h2>
          <p class="chat-subtitle">{subtitle()}</p>
        </div>
        <Show when={room()?.kind === 'group'}>
          <div class="chat-actions">
            <button class="btn btn-sm btn-soft" type="button" onClick={() => props.onInvite()}>
              <Icon name="invite" size={16} />
              <span class="label">Invite</span>
            </button>
            <button
              class="btn btn-sm btn-ghost"
              type="button"
              disabled={leaving()}
              onClick={() => void leave()}
            >
              <Icon name="leave" size={16} />
              <span class="label">Leave room</span>
            </button>
          </div>
        </Show>
      </div>
      <Show when={error()}>
        <p class="inline-error" role="alert">
          {error()}
        </p>
      </Show>
      <MessageList roomId={props.roomId} roomName={name()} />
      <Composer roomId={props.roomId} roomName={name()} />
    </main>
  );
}
