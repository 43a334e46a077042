import { createEffect, createSignal, onCleanup, Show } from 'solid-js';
import { type ChatStore, readingRoomOf } from '../client/chat-store';
import { documentTitle, totalUnread } from '../client/indicators';
import { AuthScreen } from './AuthScreen';
import { ChatShell } from './ChatShell';
import { ChatContext } from './context';

/** Signed out: the sign-in screen; signed in: the chat. The tab title counts unread messages. */
export function App(props: { store: ChatStore }) {
  const [state, setState] = createSignal(props.store.getState());
  onCleanup(props.store.subscribe(setState));
  createEffect(() => {
    const s = state();
    document.title = documentTitle(s.session ? totalUnread(s.rooms, readingRoomOf(s)) : 0);
  });
  return (
    <ChatContext.Provider value={{ store: props.store, state }}>
      <Show when={state().session} fallback={<AuthScreen />}>
        <ChatShell />
      </Show>
    </ChatContext.Provider>
  );
}
