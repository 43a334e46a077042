import { Show } from 'solid-js';
import type { RoomView } from '../client/room-list';
import { Avatar } from './Avatar';
import { useChat } from './context';
import { formatFull, formatListTime, preview } from './format';

/**
 * One room: its name first (the button's accessible name starts with it),
 * then the last message and its time. The right column has room for an
 * unread badge.
 */
export function RoomListItem(props: { room: RoomView; selected: boolean; onSelect: () => void }) {
  const { state } = useChat();
  const last = () => props.room.lastMessage;
  // A DM wears the other person's colour, the same as their avatar next to their messages.
  const avatarId = () => {
    if (props.room.kind !== 'dm') return props.room.id;
    const me = state().session?.user.id;
    return state().members[props.room.id]?.find((m) => m.id !== me)?.id ?? props.room.id;
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
      type="button"
      aria-current={props.selected ? 'true' : undefined}
      onClick={() => props.onSelect()}
    >
      <Avatar id={avatarId()} name={props.room.displayName} />
      <span class="room-name">{props.room.displayName}</span>
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
    </button>
  );
}
