import { createMemo, createSignal, Match, onCleanup, onMount, Show, Switch } from 'solid-js';
import { ChatView } from './ChatView';
import { useChat } from './context';
import { Header } from './Header';
import { InviteDialog } from './InviteDialog';
import { NewMessageDialog } from './NewMessageDialog';
import { NewRoomDialog } from './NewRoomDialog';
import { NoRoomSelected } from './NoRoomSelected';
import { RoomList } from './RoomList';
import { bindRoute } from './route';

export type DialogName = 'new-room' | 'new-message' | 'invite';

/**
 * The signed-in layout: banner, room list and the open room side by side; on
 * a narrow screen one of the two (`data-view`), with "Back to rooms".
 */
export function ChatShell() {
  const { store, state } = useChat();
  const [dialog, setDialog] = createSignal<DialogName | null>(null);
  const selected = createMemo(() => state().selectedRoomId);
  const problem = createMemo(() => state().connectionProblem);

  onMount(() => onCleanup(bindRoute(store)));

  return (
    <div class="app" data-view={selected() ? 'room' : 'list'}>
      <Header />
      <Show when={problem()}>
        <div class="banner" role="alert">
          {problem()}
        </div>
      </Show>
      <div class="shell">
        <RoomList onNew={setDialog} />
        <Show when={selected()} keyed fallback={<NoRoomSelected />}>
          {(roomId) => <ChatView roomId={roomId} onInvite={() => setDialog('invite')} />}
        </Show>
      </div>
      <Switch>
        <Match when={dialog() === 'new-room'}>
          <NewRoomDialog onClose={() => setDialog(null)} />
        </Match>
        <Match when={dialog() === 'new-message'}>
          <NewMessageDialog onClose={() => setDialog(null)} />
        </Match>
        <Match when={dialog() === 'invite' && selected()}>
          {(roomId) => <InviteDialog roomId={roomId()} onClose={() => setDialog(null)} />}
        </Match>
      </Switch>
    </div>
  );
}
