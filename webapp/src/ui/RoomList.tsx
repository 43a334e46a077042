import { createMemo, For, Show } from 'solid-js';
import { readingRoomOf } from '../client/chat-store';
import { shownUnread } from '../client/indicators';
import type { DialogName } from './ChatShell';
import { useChat } from './context';
import { EmptyState } from './EmptyState';
import { Icon } from './Icon';
import { RoomListItem } from './RoomListItem';

/** The person's rooms, newest activity first, with the buttons that start new ones. */
export function RoomList(props: { onNew: (d: DialogName) => void }) {
  const { store, state } = useChat();
  const rooms = createMemo(() => state().rooms);
  const selected = createMemo(() => state().selectedRoomId);
  const reading = createMemo(() => readingRoomOf(state()));

  return (
    <nav class="rooms" aria-label="Rooms">
      <div class="rooms-head">
        <h2 class="rooms-title">Chats</h2>
        <div class="rooms-actions">
          <button class="btn btn-sm btn-soft" type="button" onClick={() => props.onNew('new-room')}>
            <Icon name="plus" size={16} />
            New room
          </button>
          <button
            class="btn btn-sm btn-soft"
            type="button"
            onClick={() => props.onNew('new-message')}
          >
            <Icon name="compose" size={16} />
            New message
          </button>
        </div>
      </div>
      <Show when={state().roomsError}>
        <p class="inline-error" role="alert">
          {state().roomsError}{' '}
          <button class="btn btn-link" type="button" onClick={() => void store.loadRooms()}>
            Try again
          </button>
        </p>
      </Show>
      <Show
        when={rooms().length > 0}
        fallback={
          <Show when={state().roomsLoaded} fallback={<p class="muted pad">Loading your rooms…</p>}>
            <EmptyState icon="chat" title="No rooms yet">
              Create a room for a group, or send someone a direct message.
            </EmptyState>
          </Show>
        }
      >
        <ul class="room-items">
          <For each={rooms()}>
            {(room) => (
              <li>
                <RoomListItem
                  room={room}
                  selected={room.id === selected()}
                  unread={shownUnread(room, reading())}
                  onSelect={() => store.selectRoom(room.id)}
                />
              </li>
            )}
          </For>
        </ul>
      </Show>
    </nav>
  );
}
