import { createMemo, createSignal, Show } from 'solid-js';
import { errorText } from '../client/error-text';
import { Composer } from './Composer';
import { useChat } from './context';
import { Icon } from './Icon';
import { MemberList } from './MemberList';
import { MessageList } from './MessageList';
import { PresenceDot } from './PresenceDot';
import { TypingLine } from './TypingLine';

/**
 * One open room: its header (a DM says whether the other person is online; a group lists its
 * members with theirs) and actions, its messages, who is typing, the composer.
 */
export function ChatView(props: { roomId: string; onInvite: () => void }) {
  const { store, state } = useChat();
  const room = createMemo(() => state().rooms.find((r) => r.id === props.roomId));
  const [error, setError] = createSignal<string | null>(null);
  const [leaving, setLeaving] = createSignal(false);
  const [showMembers, setShowMembers] = createSignal(false);
  const name = () => room()?.displayName ?? '';
  const members = () => state().members[props.roomId] ?? [];
  const other = createMemo(() => {
    if (room()?.kind !== 'dm') return undefined;
    const me = state().session?.user.id;
    return members().find((m) => m.id !== me);
  });
  const otherOnline = () => {
    const o = other();
    return o ? state().presence[o.id] : undefined;
  };
  const subtitle = () => {
    const r = room();
    if (!r) return '';
    if (r.kind === 'dm') {
      const online = otherOnline();
      return online === undefined ? 'Direct message' : online ? 'Online' : 'Offline';
    }
    if (r.memberCount === 1) return 'Only you';
    const presence = state().presence;
    const online = members().filter((m) => presence[m.id] === true).length;
    return `${r.memberCount} members${online > 0 ? `, ${online} online` : ''}`;
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
          <p class="chat-subtitle">
            <Show when={other() && otherOnline() !== undefined}>
              <PresenceDot userId={other()?.id ?? ''} online={otherOnline() === true} />
            </Show>
            {subtitle()}
          </p>
        </div>
        <Show when={room()?.kind === 'group'}>
          <div class="chat-actions">
            <button
              class="btn btn-sm btn-ghost"
              type="button"
              aria-expanded={showMembers()}
              aria-controls="member-list"
              onClick={() => setShowMembers(!showMembers())}
            >
              <Icon name="members" size={16} />
              <span class="label">Members</span>
            </button>
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
      <Show when={showMembers() && room()?.kind === 'group'}>
        <MemberList roomId={props.roomId} id="member-list" />
      </Show>
      <MessageList roomId={props.roomId} roomName={name()} />
      <TypingLine roomId={props.roomId} />
      <Composer roomId={props.roomId} roomName={name()} />
    </main>
  );
}
