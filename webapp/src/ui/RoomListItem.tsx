import { Show } from 'solid-js';
import type { RoomView } from '../client/room-list';
import { Avatar } from './Avatar';
import { useChat } from './context';
import { formatFull, formatListTime, preview } from './format';
import { PresenceDot } from './PresenceDot';
import { UnreadBadge } from './UnreadBadge';

/**
 * One room: its name first (the button's accessible name starts with it),
 * then the last message and its time, and the unread badge (the row is bold
 * while there are unread messages). A DM shows whether the other person is
 * online.
 */
export function RoomListItem(props: {
  room: RoomView;
  selected: boolean;
  /** The unread count to show (none for the room being read). */
  unread: number;
  onSelect: () => void;
}) {
  const { state } = useChat();
  const last = () => props.room.lastMessage;
  const other = () => {
    if (props.room.kind !== 'dm') return undefined;
    const me = state().session?.user.id;
    return state().members[props.room.id]?.find((m) => m.id !== me)?.id;
  };
  // A DM wears the other person's colour, the same as their avatar next to their messages.
  const avatarId = () => other() ?? props.room.id;
  const online = () => {
    const id = other();
    return id === undefined ? undefined : state().presence[id];
  };
  const who = () => {
    const m = last();
    if (!m) return '';
    if (m.senderId === state().session?.user.id) return 'You: ';
    if (props.room.kind === 'dm') return '';
    const name = state().users[m.senderId]?.displayName;
    return name ? `${name}: ` : '';
  };
  return (
    <button
      class="room-item"
      classList={{ unread: props.unread > 0 }}
      type="button"
      aria-current={props.selected ? 'true' : undefined}
      onClick={() => props.onSelect()}
    >
      <span class="room-avatar">
        <Avatar id={avatarId()} name={props.room.displayName} />
        <Show when={other() !== undefined && online() !== undefined}>
          <PresenceDot userId={other() ?? ''} online={online() === true} />
        </Show>
      </span>
      <span class="room-name">
        {props.room.displayName}
        <Show when={online()}>
          <span class="visually-hidden">, online</span>
        </Show>
      </span>
      <span class="room-preview">
        <Show
          when={last()}
          fallback={
            props.room.kind === 'dm' ? 'Direct message' : `${props.room.memberCount} members`
          }
        >
          {(m) => (m().deleted ? 'Message deleted' : `${who()}${preview(m().body)}`)}
        </Show>
      </span>
      <Show when={last()}>
        {(m) => (
          <time
            class="room-time"
            datetime={new Date(m().ts).toISOString()}
            title={formatFull(m().ts)}
          >
            {formatListTime(m().ts)}
          </time>
        )}
      </Show>
      <Show when={props.unread > 0}>
        <UnreadBadge count={props.unread} testId={`room-unread-${props.room.id}`} />
      </Show>
    </button>
  );
}
