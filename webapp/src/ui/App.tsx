import { createSignal, onCleanup, Show } from 'solid-js';
import type { ChatStore } from '../client/chat-store';
import { AuthScreen } from './AuthScreen';
import { ChatShell } from './ChatShell';
import { ChatContext } from './context';

/** Signed out: the sign-in screen; signed in: the chat. */
export function App(props: { store: ChatStore }) {
  const [state, setState] = createSignal(props.store.getState());
  onCleanup(props.store.subscribe(setState));
  return (
    <ChatContext.Provider value={{ store: props.store, state }}>
      <Show when={state().session} fallback={<AuthScreen />}>
        <ChatShell />
      </Show>
    </ChatContext.Provider>
  );
}
