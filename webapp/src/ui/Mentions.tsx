import type { Notification } from '@parley/protocol/model';
import { createEffect, createSignal, For, on, onCleanup, onMount, Show } from 'solid-js';
import { useChat } from './context';
import { formatFull, formatListTime } from './format';
import { Icon } from './Icon';

/**
 * The mentions inbox: a bell in the banner with the unread count, and its panel (newest first,
 * "Load more", "Mark all read"). Opening the panel reads the first page again; an entry opens
 * its room at the message and is marked read. Escape or a click elsewhere closes the panel.
 * The data-testids are a contract with the browser tests.
 */
export function Mentions() {
  const { store, state } = useChat();
  const [open, setOpen] = createSignal(false);
  const inbox = () => state().inbox;
  const count = () => inbox().unreadTotal;
  let box!: HTMLDivElement;
  let button!: HTMLButtonElement;

  const close = (focusButton: boolean) => {
    setOpen(false);
    if (focusButton) button.focus();
  };
  const toggle = () => {
    if (open()) return close(false);
    setOpen(true);
    void store.loadInbox();
  };
  const openEntry = (n: Notification) => {
    close(false);
    void store.openMention(n);
  };

  // Senders' names, once the panel shows them: the members of the rooms the entries are in.
  createEffect(
    on([open, () => inbox().items], ([shown, items]) => {
      if (!shown) return;
      const users = state().users;
      const unknown = items.filter((n) => !users[n.senderId]).map((n) => n.roomId);
      if (unknown.length > 0) void store.loadMembersOf(unknown);
    }),
  );

  onMount(() => {
    const onPointerDown = (e: PointerEvent) => {
      if (open() && !box.contains(e.target as Node)) setOpen(false);
    };
    // Escape closes the panel and hands the focus back to the bell.
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || !open()) return;
      e.preventDefault();
      close(box.contains(document.activeElement));
    };
    document.addEventListener('pointerdown', onPointerDown);
    document.addEventListener('keydown', onKey);
    onCleanup(() => {
      document.removeEventListener('pointerdown', onPointerDown);
      document.removeEventListener('keydown', onKey);
    });
  });

  return (
    <div ref={box} class="mentions">
      <button
        ref={button}
        class="btn btn-icon mentions-button"
        type="button"
        data-testid="mentions-button"
        aria-label={count() > 0 ? `Mentions, ${count()} unread` : 'Mentions'}
        aria-expanded={open()}
        aria-controls="mentions-panel"
        onClick={toggle}
      >
        <Icon name="bell" size={19} />
        <Show when={count() > 0}>
          <span class="badge badge-dot" data-testid="mentions-count" aria-hidden="true">
            {count() > 99 ? '99+' : count()}
          </span>
        </Show>
      </button>
      <Show when={open()}>
        <section
          id="mentions-panel"
          class="mentions-panel"
          data-testid="mentions-panel"
          aria-labelledby="mentions-title"
        >
          <div class="mentions-head">
            <h2 id="mentions-title">Mentions</h2>
            <button
              class="btn btn-link btn-xs"
              type="button"
              disabled={count() === 0}
              onClick={() => void store.markAllMentionsRead()}
            >
              Mark all read
            </button>
          </div>
          <Show when={inbox().error}>
            {(err) => (
              <p class="inline-error mentions-error" role="alert">
                {err()}
              </p>
            )}
          </Show>
          <Show
            when={inbox().items.length > 0}
            fallback={
              <p class="muted mentions-empty" role="status">
                {inbox().loading && !inbox().loaded
                  ? 'Loading…'
                  : 'No mentions yet. When someone writes @your-name, it shows here.'}
              </p>
            }
          >
            <ul class="mention-items">
              <For each={inbox().items}>
                {(n) => (
                  <li>
                    <MentionItem n={n} onOpen={() => openEntry(n)} />
                  </li>
                )}
              </For>
            </ul>
          </Show>
          <Show when={inbox().nextCursor}>
            <div class="search-more">
              <button
                class="btn btn-soft btn-sm"
                type="button"
                disabled={inbox().loadingMore}
                onClick={() => void store.loadMoreInbox()}
              >
                {inbox().loadingMore ? 'Loading…' : 'Load more'}
              </button>
            </div>
          </Show>
        </section>
      </Show>
    </div>
  );
}

/** One entry: who, where, when, and the excerpt (text, never HTML); unread ones are marked. */
function MentionItem(props: { n: Notification; onOpen: () => void }) {
  const { state } = useChat();
  const room = () => state().rooms.find((r) => r.id === props.n.roomId)?.displayName ?? 'A room';
  const sender = () => state().users[props.n.senderId]?.displayName ?? 'Someone';
  return (
    <button
      class="hit mention-item"
      classList={{ unread: !props.n.read }}
      type="button"
      data-testid="mention-item"
      data-message-id={props.n.messageId}
      data-room-id={props.n.roomId}
      data-read={props.n.read ? 'true' : 'false'}
      onClick={() => props.onOpen()}
    >
      <span class="hit-head">
        <span class="hit-room">{sender()}</span>
        <span class="hit-sender">in {room()}</span>
        <time
          class="hit-time"
          datetime={new Date(props.n.ts).toISOString()}
          title={formatFull(props.n.ts)}
        >
          {formatListTime(props.n.ts)}
        </time>
      </span>
      <span class="hit-text">
        <Show when={!props.n.read}>
          <span class="visually-hidden">Unread: </span>
        </Show>
        {props.n.excerpt}
      </span>
    </button>
  );
}
