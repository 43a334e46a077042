import type { User } from '@parley/protocol/model';
import { createSignal, Show } from 'solid-js';
import { errorText } from '../client/error-text';
import { useChat } from './context';
import { Dialog } from './Dialog';
import { PeoplePicker } from './PeoplePicker';

/** "Invite people" into the open room; stays open to invite several. */
export function InviteDialog(props: { roomId: string; onClose: () => void }) {
  const { store, state } = useChat();
  const [busy, setBusy] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const isMember = (u: User) => state().members[props.roomId]?.some((m) => m.id === u.id) ?? false;

  const invite = async (u: User) => {
    if (busy()) return;
    setBusy(u.id);
    setError(null);
    setDone(null);
    try {
      await store.invite(props.roomId, u.id);
      setDone(`${u.displayName} was invited.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <Dialog title="Invite people" onClose={props.onClose}>
      <div class="dialog-form">
        <PeoplePicker
          verb="Invite"
          onPick={(u) => void invite(u)}
          unavailable={(u) => (isMember(u) ? 'Member' : busy() === u.id ? 'Inviting…' : null)}
          autofocus
        />
        <p class="dialog-status" role="status">
          {done()}
        </p>
        <Show when={error()}>
          <p class="form-error" role="alert">
            {error()}
          </p>
        </Show>
        <div class="dialog-actions">
          <button class="btn btn-primary" type="button" onClick={props.onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  );
}
