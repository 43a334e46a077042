import type { User } from '@parley/protocol/model';
import { createSignal, Show } from 'solid-js';
import { errorText } from '../client/error-text';
import { useChat } from './context';
import { Dialog } from './Dialog';
import { PeoplePicker } from './PeoplePicker';

/** "New message": pick a person, open (or reopen) the DM with them. */
export function NewMessageDialog(props: { onClose: () => void }) {
  const { store } = useChat();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);

  const open = async (u: User) => {
    if (busy()) return;
    setBusy(true);
    setError(null);
    try {
      const room = await store.openDm(u.id);
      store.selectRoom(room.id);
      props.onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title="New message" onClose={props.onClose}>
      <div class="dialog-form">
        <PeoplePicker verb="Message" onPick={(u) => void open(u)} autofocus />
        <Show when={error()}>
          <p class="form-error" role="alert">
            {error()}
          </p>
        </Show>
      </div>
    </Dialog>
  );
}
