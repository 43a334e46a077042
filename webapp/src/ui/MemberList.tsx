import { createMemo, For, Show } from 'solid-js';
import { Avatar } from './Avatar';
import { useChat } from './context';
import { PresenceDot } from './PresenceDot';

/** The open room's members, online first, each with their online dot. */
export function MemberList(props: { roomId: string; id: string }) {
  const { state } = useChat();
  const me = () => state().session?.user.id;
  const members = createMemo(() => {
    const presence = state().presence;
    const list = [...(state().members[props.roomId] ?? [])];
    // Stable: online people first, then the order the server gave.
    return list.sort((a, b) => Number(presence[b.id] === true) - Number(presence[a.id] === true));
  });
  return (
    <section id={props.id} class="member-list" aria-label="Members">
      <Show when={members().length > 0} fallback={<p class="muted pad">Loading members…</p>}>
        <ul>
          <For each={members()}>
            {(u) => {
              const online = () => state().presence[u.id];
              return (
                <li class="member">
                  <span class="room-avatar">
                    <Avatar id={u.id} name={u.displayName} size="sm" />
                    <Show when={online() !== undefined}>
                      <PresenceDot userId={u.id} online={online() === true} />
                    </Show>
                  </span>
                  <span class="member-name">
                    {u.displayName}
                    {u.id === me() ? ' (you)' : ''}
                  </span>
                  <span class="member-state">
                    {online() === undefined ? '' : online() ? 'Online' : 'Offline'}
                  </span>
                </li>
              );
            }}
          </For>
        </ul>
      </Show>
    </section>
  );
}
