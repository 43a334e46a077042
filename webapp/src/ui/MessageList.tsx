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
import type { JumpStatus } from '../client/chat-store';
import { seenMessageId } from '../client/indicators';
import { mentions } from '../client/mentions';
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

/** Why a jump to a message (a search result) did not end at the message. */
const JUMP_NOTE: Partial<Record<JumpStatus, string>> = {
  missing: 'That message is no longer in this room.',
  'too-far': 'That message is too far back to open here. Scroll up to reach it.',
};

/**
 * The room's messages (role=log). Keeps the view pinned to the bottom while
 * the person is there; when they scrolled up, new messages raise a "New
 * messages" button instead of moving the view. Older pages load near the top
 * without the view jumping: the distance from the bottom is kept. A room
 * opened at a message (`jump`) scrolls it to the middle and marks it.
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
  const members = createMemo(() => state().members[props.roomId]);
  const memberNames = createMemo(() => new Set((members() ?? []).map((u) => u.username)));
  const isMember = (username: string) => memberNames().has(username);
  const myName = () => state().session?.user.username;
  const mentionsMe = (e: tl.TimelineEntry) => {
    const name = myName();
    return name !== undefined && e.senderId !== me() && mentions(e.body, name);
  };
  // A DM: my last message the other member has read up to says "Seen".
  const seenId = createMemo(() => {
    const t = timeline();
    const self = me();
    if (!t || !self || !isDm()) return null;
    const other = members()?.find((u) => u.id !== self);
    return other
      ? seenMessageId(t.messages, self, state().readSeqs[props.roomId]?.[other.id])
      : null;
  });
  const loadingOlder = () => state().loadingOlder[props.roomId] === true;
  const hasOlder = () => {
    const t = timeline();
    return t ? tl.hasOlder(t) : false;
  };
  const jump = createMemo(() => {
    const j = state().jump;
    return j?.roomId === props.roomId ? j : null;
  });
  const jumpedId = () => {
    const j = jump();
    return j?.status === 'shown' ? j.messageId : null;
  };
  const jumpNote = () => {
    const j = jump();
    return j ? JUMP_NOTE[j.status] : undefined;
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

  // After the effect above, so the view is where the new items left it. Once per jump.
  let scrolledJump = 0;
  createEffect(
    on([jump, items], ([j]) => {
      if (j?.status !== 'shown' || j.id === scrolledJump) return;
      const target = el.querySelector<HTMLElement>(`[data-testid="message"][data-seq="${j.seq}"]`);
      if (!target) return;
      scrolledJump = j.id;
      target.scrollIntoView({ block: 'center' });
      // Now, not at the scroll event: a page prepended before it must keep this position.
      fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
      if (!pinned()) setUnseen(false);
      // The same message again: replay its highlight.
      for (const a of target.getAnimations?.({ subtree: true }) ?? []) {
        a.cancel();
        a.play();
      }
      el.focus({ preventScroll: true });
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
              jumped={!tl.isPending(entry) && entry.id === jumpedId()}
              isMember={isMember}
              mentionsMe={mentionsMe(entry)}
              seen={!tl.isPending(entry) && entry.id === seenId()}
              onRetry={() => store.retry(props.roomId, entry.clientMsgId)}
            />
          )}
        </For>
      </div>
      {/* Outside the scrolled content, so showing it does not move the messages. */}
      <Show when={loadingOlder() || jump()?.status === 'loading'}>
        <p class="loading-older" role="status">
          {jump()?.status === 'loading' ? 'Finding the message…' : 'Loading earlier messages…'}
        </p>
      </Show>
      <Show when={jumpNote()}>
        {(note) => (
          <p class="loading-older jump-note" role="status">
            {note()}
            <button class="btn btn-link btn-xs" type="button" onClick={() => store.clearJump()}>
              Dismiss
            </button>
          </p>
        )}
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
