import { LIMITS } from '@parley/protocol/limits';
import type { User } from '@parley/protocol/model';
import { createSignal, For, Show } from 'solid-js';
import { errorText } from '../client/error-text';
import { useChat } from './context';
import { Dialog } from './Dialog';
import { Icon } from './Icon';
import { PeoplePicker } from './PeoplePicker';

/** "New room": a name, the people to add, Create; then the new room opens. */
export function NewRoomDialog(props: { onClose: () => void }) {
  const { store } = useChat();
  const [name, setName] = createSignal('');
  const [people, setPeople] = createSignal<User[]>([]);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);

  const add = (u: User) => {
    if (!people().some((p) => p.id === u.id)) setPeople([...people(), u]);
  };
  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    if (!name().trim()) return setError('Give the room a name.');
    setBusy(true);
    setError(null);
    try {
      const room = await store.createRoom(
        name().trim(),
        people().map((p) => p.id),
      );
      store.selectRoom(room.id);
      props.onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title="New room" onClose={props.onClose}>
      <form class="dialog-form" onSubmit={create}>
        <label class="field">
          <span>Room name</span>
          <input
            value={name()}
            onInput={(e) => setName(e.currentTarget.value)}
            maxLength={LIMITS.roomNameMaxChars}
            placeholder="e.g. Weekend plans"
            data-autofocus=""
          />
        </label>
        <Show when={people().length > 0}>
          <ul class="chips" aria-label="People to add">
            <For each={people()}>
              {(p) => (
                <li class="chip">
                  {p.displayName}
                  <button
                    class="chip-remove"
                    type="button"
                    aria-label={`Remove ${p.username}`}
                    onClick={() => setPeople(people().filter((x) => x.id !== p.id))}
                  >
                    <Icon name="close" size={14} />
                  </button>
                </li>
              )}
            </For>
          </ul>
        </Show>
        <PeoplePicker
          verb="Add"
          onPick={add}
          unavailable={(u) => (people().some((p) => p.id === u.id) ? 'Added' : null)}
        />
        <Show when={error()}>
          <p class="form-error" role="alert">
            {error()}
          </p>
        </Show>
        <div class="dialog-actions">
          <button class="btn btn-ghost" type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button class="btn btn-primary" type="submit" disabled={busy() || !name().trim()}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
