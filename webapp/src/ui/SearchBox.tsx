import { LIMITS } from '@parley/protocol/limits';
import { createEffect, createSignal, For, on, onCleanup, onMount, Show } from 'solid-js';
import type { SearchHit, SearchSort } from '../client/api';
import { idleSearch, MessageSearch, type SearchRequest, type SearchState } from '../client/search';
import { useChat } from './context';
import { Icon } from './Icon';
import { SearchHitItem } from './SearchHitItem';

type Scope = 'all' | 'room';

const isMac = () => /Mac|iPhone|iPad/.test(navigator.userAgent);

/** Typing goes here: the "/" shortcut leaves it alone. */
const typingIn = (el: Element | null) =>
  el instanceof HTMLInputElement ||
  el instanceof HTMLTextAreaElement ||
  el instanceof HTMLSelectElement ||
  (el instanceof HTMLElement && el.isContentEditable);

/**
 * "Search messages" in the banner, with its results panel. Typing searches
 * after a pause, Enter at once; Ctrl+K (⌘K) or "/" focus the field. The panel
 * offers this room or all rooms and newest first or best match; ↓/↑ move
 * through the results, Enter or a click opens the room at the message, Escape
 * closes the panel and gives the focus back to the field.
 */
export function SearchBox() {
  const { store, state } = useChat();
  const [view, setView] = createSignal<SearchState>(idleSearch);
  const search = new MessageSearch({ api: store.api, onChange: setView });
  const [text, setText] = createSignal('');
  const [scope, setScope] = createSignal<Scope>('all');
  const [sort, setSort] = createSignal<SearchSort>('recent');
  const [open, setOpen] = createSignal(false);
  const selected = () => state().selectedRoomId;
  const selectedName = () => state().rooms.find((r) => r.id === selected())?.displayName;
  let box!: HTMLElement;
  let input!: HTMLInputElement;
  let list: HTMLUListElement | undefined;
  /** After "More results": the index of the first new hit, to move the focus to. */
  let focusAfterMore: number | null = null;

  const request = (): SearchRequest => ({
    q: text(),
    roomId: scope() === 'room' ? selected() : null,
    sort: sort(),
  });
  const hitButtons = () => [...(list?.querySelectorAll<HTMLElement>('.hit') ?? [])];
  const close = (focusField: boolean) => {
    setOpen(false);
    if (focusField) input.focus();
  };
  const rerun = () => {
    if (text().trim()) search.submit(request());
  };
  const openHit = (hit: SearchHit) => {
    close(false);
    input.blur();
    void store.openMessage(hit.message);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      if (open()) {
        // Also keeps the search field from clearing itself.
        e.preventDefault();
        close(true);
      }
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    if (e.target === input) {
      if (e.key !== 'ArrowDown' || !view().request) return;
      // Opening renders the panel at once.
      setOpen(true);
      hitButtons()[0]?.focus();
      e.preventDefault();
      return;
    }
    const hits = hitButtons();
    const at = hits.indexOf(e.target as HTMLElement);
    if (at >= 0) {
      const next = e.key === 'ArrowDown' ? hits[at + 1] : at === 0 ? input : hits[at - 1];
      next?.focus();
    } else {
      return;
    }
    e.preventDefault();
  };

  // Senders' names: the members of the rooms the hits are in.
  createEffect(
    on(
      () => view().hits,
      (hits) => {
        const users = state().users;
        const unknown = hits.filter((h) => !users[h.message.senderId]).map((h) => h.message.roomId);
        if (unknown.length > 0) void store.loadMembersOf(unknown);
      },
    ),
  );
  createEffect(
    on(view, (v) => {
      if (focusAfterMore === null || v.loadingMore) return;
      const target = hitButtons()[focusAfterMore] ?? hitButtons().at(-1);
      focusAfterMore = null;
      target?.focus();
    }),
  );

  onMount(() => {
    const onGlobalKey = (e: KeyboardEvent) => {
      const ctrlK = (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k';
      const slash =
        e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typingIn(document.activeElement);
      if (!ctrlK && !slash) return;
      e.preventDefault();
      input.focus();
      input.select();
      if (view().request) setOpen(true);
    };
    const onPointerDown = (e: PointerEvent) => {
      if (open() && !box.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onGlobalKey);
    document.addEventListener('pointerdown', onPointerDown);
    onCleanup(() => {
      document.removeEventListener('keydown', onGlobalKey);
      document.removeEventListener('pointerdown', onPointerDown);
      search.dispose();
    });
  });

  /** The search that found nothing. */
  const emptyFor = () => {
    const v = view();
    return v.request && !v.loading && !v.error && v.hits.length === 0 ? v.request : null;
  };
  const status = () => {
    const v = view();
    if (v.loading) return 'Searching…';
    if (!v.request || v.error || v.hits.length === 0) return '';
    const n = v.hits.length;
    return `${n}${v.nextCursor ? '+' : ''} ${n === 1 ? 'message' : 'messages'}`;
  };

  return (
    <search
      ref={box}
      class="search"
      onKeyDown={onKeyDown}
      onFocusOut={(e) => {
        // The focus left the field and the panel (Tab past the last result).
        const to = e.relatedTarget as Node | null;
        if (to && !box.contains(to)) setOpen(false);
      }}
    >
      <form
        class="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          focusAfterMore = null;
          search.submit(request());
          setOpen(true);
        }}
      >
        <label class="visually-hidden" for="search-input">
          Search messages
        </label>
        <span class="search-icon">
          <Icon name="search" size={16} />
        </span>
        <input
          ref={input}
          id="search-input"
          class="search-input"
          type="search"
          placeholder="Search"
          autocomplete="off"
          enterkeyhint="search"
          maxLength={LIMITS.searchQueryMaxChars}
          aria-controls="search-panel"
          aria-keyshortcuts="Control+K Meta+K /"
          value={text()}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setText(v);
            focusAfterMore = null;
            search.type(request());
            setOpen(v.trim() !== '');
          }}
          // A click (not any focus: Escape hands the focus back here) shows the last results again.
          onClick={() => {
            if (view().request) setOpen(true);
          }}
        />
        <Show when={!text()}>
          <kbd class="search-kbd">{isMac() ? '⌘K' : 'Ctrl K'}</kbd>
        </Show>
      </form>
      <Show when={open()}>
        <section id="search-panel" class="search-panel" aria-label="Search results">
          <div class="search-options">
            <Show when={selected()}>
              <div class="seg" role="radiogroup" aria-label="Where to search">
                <label class="seg-option">
                  <input
                    type="radio"
                    name="search-scope"
                    checked={scope() === 'all'}
                    onChange={() => {
                      setScope('all');
                      rerun();
                    }}
                  />
                  <span>All rooms</span>
                </label>
                <label class="seg-option" title={selectedName()}>
                  <input
                    type="radio"
                    name="search-scope"
                    checked={scope() === 'room'}
                    onChange={() => {
                      setScope('room');
                      rerun();
                    }}
                  />
                  <span>This room</span>
                </label>
              </div>
            </Show>
            <div class="seg" role="radiogroup" aria-label="Order">
              <label class="seg-option">
                <input
                  type="radio"
                  name="search-sort"
                  checked={sort() === 'recent'}
                  onChange={() => {
                    setSort('recent');
                    rerun();
                  }}
                />
                <span>Newest</span>
              </label>
              <label class="seg-option">
                <input
                  type="radio"
                  name="search-sort"
                  checked={sort() === 'relevance'}
                  onChange={() => {
                    setSort('relevance');
                    rerun();
                  }}
                />
                <span>Best match</span>
              </label>
            </div>
          </div>
          <p class="search-status" role="status">
            {status()}
          </p>
          <Show when={view().error}>
            {(err) => (
              <p class="inline-error search-error" role="alert">
                {err()}
              </p>
            )}
          </Show>
          <Show when={emptyFor()}>
            {(req) => (
              <div class="search-empty">
                <p class="empty-title">No messages match “{req().q}”</p>
                <p class="muted">
                  {req().roomId
                    ? 'Check the spelling, or search all rooms.'
                    : 'Check the spelling, or try fewer words.'}
                </p>
              </div>
            )}
          </Show>
          <Show when={view().hits.length > 0}>
            <ul ref={list} class="hits" aria-label="Messages found" aria-busy={view().loading}>
              <For each={view().hits}>
                {(hit) => (
                  <li>
                    <SearchHitItem hit={hit} onOpen={() => openHit(hit)} />
                  </li>
                )}
              </For>
            </ul>
          </Show>
          <Show when={view().nextCursor && !view().loading}>
            <div class="search-more">
              <button
                class="btn btn-soft btn-sm"
                type="button"
                disabled={view().loadingMore}
                onClick={() => {
                  focusAfterMore = view().hits.length;
                  search.more();
                }}
              >
                {view().loadingMore ? 'Loading…' : 'More results'}
              </button>
            </div>
          </Show>
        </section>
      </Show>
    </search>
  );
}
