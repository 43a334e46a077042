import {
  createEffect,
  createMemo,
  createSignal,
  For,
  on,
  onCleanup,
  onMount,
  Show,
} from 'solid-js';
import * as tl from '../client/timeline';
import { useChat } from './context';
import { EmptyState } from './EmptyState';
import { Icon } from './Icon';
import { MessageItem } from './MessageItem';

/** Closer than this to the bottom counts as "at the bottom": new messages keep the view pinned. */
const PIN_SLACK_PX = 48;
/** Closer than this to the top loads the previous page. */
const LOAD_OLDER_PX = 400;

const keyOf = (e: tl.TimelineEntry | undefined) => (e ? `${e.senderId}\n${e.clientMsgId}` : '');

/**
 * The room's messages (role=log). Keeps the view pinned to the bottom while
 * the person is there; when they scrolled up, new messages raise a "New
 * messages" button instead of moving the view. Older pages load near the top
 * without the view jumping: the distance from the bottom is kept.
 */
export function MessageList(props: { roomId: string; roomName: string }) {
  const { store, state } = useChat();
  const timeline = createMemo(() => state().timelines[props.roomId]);
  const items = createMemo(() => {
    const t = timeline();
    return t ? tl.entries(t) : [];
  });
  const me = () => state().session?.user.id;
  const isDm = () => state().rooms.find((r) => r.id === props.roomId)?.kind === 'dm';
  const loadingOlder = () => state().loadingOlder[props.roomId] === true;
  const hasOlder = () => {
    const t = timeline();
    return t ? tl.hasOlder(t) : false;
  };
  const [unseen, setUnseen] = createSignal(false);
  let el!: HTMLDivElement;
  let fromBottom = 0;
  let first = '';
  let last = '';

  const pinned = () => fromBottom <= PIN_SLACK_PX;
  const toBottom = () => {
    el.scrollTop = el.scrollHeight;
    fromBottom = 0;
    setUnseen(false);
  };
  const maybeLoadOlder = () => {
    if (hasOlder() && !loadingOlder() && el.scrollTop < LOAD_OLDER_PX) {
      void store.loadOlder(props.roomId);
    }
  };
  const onScroll = () => {
    fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    if (pinned()) setUnseen(false);
    maybeLoadOlder();
  };

  // Runs after the DOM has the new items.
  createEffect(
    on(items, (list) => {
      const newFirst = keyOf(list[0]);
      const newLast = keyOf(list.at(-1));
      const prepended = first !== '' && newFirst !== first && newLast === last;
      const appended = newLast !== last;
      const lastEntry = list.at(-1);
      if (prepended) {
        el.scrollTop = el.scrollHeight - el.clientHeight - fromBottom;
      } else if (appended) {
        const mine = lastEntry && lastEntry.senderId === me() && tl.isPending(lastEntry);
        if (pinned() || mine || last === '') toBottom();
        else setUnseen(true);
      } else if (pinned()) {
        toBottom();
      }
      first = newFirst;
      last = newLast;
      // A first page shorter than the view cannot be scrolled up: load more now.
      queueMicrotask(maybeLoadOlder);
    }),
  );

  onMount(() => {
    // The composer growing or the window resizing must not unpin the view.
    const ro = new ResizeObserver(() => {
      if (pinned()) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    onCleanup(() => ro.disconnect());
  });

  return (
    <div class="log-wrap">
      <div
        ref={el}
        class="log"
        role="log"
        aria-label="Messages"
        aria-busy={!timeline()?.loaded}
        tabindex="0"
        onScroll={onScroll}
      >
        <Show when={timeline()?.loaded && !hasOlder() && items().length > 0}>
          <p class="log-start">
            {isDm()
              ? `This is the beginning of your conversation with ${props.roomName}.`
              : `This is the beginning of ${props.roomName}.`}
          </p>
        </Show>
        <Show when={state().historyError[props.roomId]}>
          {(err) => (
            <p class="inline-error" role="alert">
              {err()}
            </p>
          )}
        </Show>
        <Show when={timeline()?.loaded && items().length === 0}>
          <EmptyState icon="chat" title="No messages yet">
            Say hello to get the conversation going.
          </EmptyState>
        </Show>
        <Show when={!timeline()?.loaded && !state().historyError[props.roomId]}>
          <p class="log-loading">Loading messages…</p>
        </Show>
        <For each={items()}>
          {(entry, i) => (
            <MessageItem
              entry={entry}
              prev={items()[i() - 1]}
              own={entry.senderId === me()}
              showSender={!isDm()}
              onRetry={() => store.retry(props.roomId, entry.clientMsgId)}
            />
          )}
        </For>
      </div>
      {/* Outside the scrolled content, so showing it does not move the messages. */}
      <Show when={loadingOlder()}>
        <p class="loading-older" role="status">
          Loading earlier messages…
        </p>
      </Show>
      <Show when={unseen()}>
        <button class="jump btn btn-primary btn-sm" type="button" onClick={toBottom}>
          New messages
          <Icon name="down" size={16} />
        </button>
      </Show>
    </div>
  );
}
