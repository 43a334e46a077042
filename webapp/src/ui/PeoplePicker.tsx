import type { User } from '@parley/protocol/model';
import { createEffect, createSignal, For, on, onCleanup, Show } from 'solid-js';
import { errorText } from '../client/error-text';
import { Avatar } from './Avatar';
import { useChat } from './context';

const DEBOUNCE_MS = 200;

export interface PeoplePickerProps {
  /** The verb on each result: "Add", "Message", "Invite" (the button is named "<verb> <username>"). */
  verb: string;
  onPick: (u: User) => void;
  /** A reason the person cannot be picked ("Added", "Member"), or null. */
  unavailable?: (u: User) => string | null;
  autofocus?: boolean;
}

/** "Find people": a username prefix search with one button per result. */
export function PeoplePicker(props: PeoplePickerProps) {
  const { store } = useChat();
  const [query, setQuery] = createSignal('');
  const [results, setResults] = createSignal<User[] | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  let asked = 0;

  createEffect(
    on(query, (raw) => {
      // Usernames are lowercase; the search is by prefix.
      const q = raw.trim().toLowerCase();
      const mine = ++asked;
      if (!q) {
        setResults(null);
        return;
      }
      const timer = setTimeout(async () => {
        try {
          const users = await store.searchUsers(q.slice(0, 32));
          if (mine === asked) {
            setResults(users);
            setError(null);
          }
        } catch (err) {
          if (mine === asked) setError(errorText(err));
        }
      }, DEBOUNCE_MS);
      onCleanup(() => clearTimeout(timer));
    }),
  );

  return (
    <div class="picker">
      <label class="field">
        <span>Find people</span>
        <input
          type="search"
          placeholder="Search by username"
          autocomplete="off"
          autocapitalize="none"
          spellcheck={false}
          value={query()}
          onInput={(e) => setQuery(e.currentTarget.value)}
          data-autofocus={props.autofocus ? '' : undefined}
        />
      </label>
      <Show when={error()}>
        <p class="inline-error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={results()}>
        {(list) => (
          <Show
            when={list().length > 0}
            fallback={<p class="muted picker-empty">Nobody found for “{query().trim()}”.</p>}
          >
            <ul class="people">
              <For each={list()}>
                {(u) => {
                  const reason = () => props.unavailable?.(u) ?? null;
                  return (
                    <li>
                      <button
                        class="person"
                        type="button"
                        aria-label={`${props.verb} ${u.username}`}
                        disabled={reason() !== null}
                        onClick={() => props.onPick(u)}
                      >
                        <Avatar id={u.id} name={u.displayName} size="sm" />
                        <span class="person-name">{u.displayName}</span>
                        <span class="person-handle">@{u.username}</span>
                        <span class="person-action">{reason() ?? props.verb}</span>
                      </button>
                    </li>
                  );
                }}
              </For>
            </ul>
          </Show>
        )}
      </Show>
    </div>
  );
}
