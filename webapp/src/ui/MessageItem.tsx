import { Show } from 'solid-js';
import * as tl from '../client/timeline';
import { Avatar } from './Avatar';
import { useChat } from './context';
import { formatDay, formatFull, formatTime, sameDay, startsGroup } from './format';
import { MessageText } from './MessageText';

/**
 * One message: a day separator when the day changes, the sender's name and
 * the time when a new group starts, the bubble, and its delivery state.
 * The data-* attributes are a contract with the browser tests.
 */
export function MessageItem(props: {
  entry: tl.TimelineEntry;
  prev: tl.TimelineEntry | undefined;
  own: boolean;
  showSender: boolean;
  /** The message the room was opened at (a search result). */
  jumped?: boolean;
  /** Names of the room's members: their `@mentions` are marked. */
  isMember?: (username: string) => boolean;
  /** The message mentions the person: its row is marked. */
  mentionsMe?: boolean;
  /** My message the other member of a DM has read up to ("Seen"). */
  seen?: boolean;
  onRetry: () => void;
}) {
  const { state } = useChat();
  const status = () => (tl.isPending(props.entry) ? props.entry.status : 'sent');
  const seq = () => (tl.isPending(props.entry) ? undefined : props.entry.seq);
  const newDay = () => !props.prev || !sameDay(props.prev.ts, props.entry.ts);
  const first = () => startsGroup(props.prev, props.entry);
  const sender = () => state().users[props.entry.senderId];
  const senderName = () => sender()?.displayName ?? 'Former member';
  const deleted = () => !tl.isPending(props.entry) && props.entry.deleted === true;
  const edited = () => !tl.isPending(props.entry) && props.entry.editedTs !== undefined;
  const error = () => (tl.isPending(props.entry) ? props.entry.error : undefined);

  return (
    <>
      <Show when={newDay()}>
        <div class="day">
          <span>{formatDay(props.entry.ts)}</span>
        </div>
      </Show>
      <div
        class="msg"
        classList={{
          own: props.own,
          first: first(),
          jumped: props.jumped === true,
          'mentions-me': props.mentionsMe === true,
        }}
        data-testid="message"
        data-seq={seq()}
        data-client-msg-id={props.entry.clientMsgId}
        data-status={status()}
        data-own={props.own ? 'true' : undefined}
        data-jumped={props.jumped ? 'true' : undefined}
        data-mentions-me={props.mentionsMe ? 'true' : undefined}
      >
        <Show when={!props.own && props.showSender}>
          <div class="msg-avatar">
            <Show when={first()}>
              <Avatar id={props.entry.senderId} name={senderName()} size="sm" />
            </Show>
          </div>
        </Show>
        <div class="msg-main">
          <Show when={first()}>
            <div class="msg-meta">
              <Show when={!props.own && props.showSender}>
                <span class="msg-sender">{senderName()}</span>
              </Show>
              <time
                class="msg-time"
                datetime={new Date(props.entry.ts).toISOString()}
                title={formatFull(props.entry.ts)}
              >
                {formatTime(props.entry.ts)}
              </time>
            </div>
          </Show>
          <div class="bubble" title={first() ? undefined : formatTime(props.entry.ts)}>
            <Show when={!deleted()} fallback={<em class="muted">This message was deleted.</em>}>
              <MessageText text={props.entry.body} isMember={props.isMember} />
              <Show when={edited()}>
                <span class="edited"> (edited)</span>
              </Show>
            </Show>
          </div>
          <Show when={props.seen}>
            <span class="msg-state msg-seen" data-testid="seen">
              Seen
            </span>
          </Show>
          <Show when={status() === 'pending'}>
            <span class="msg-state">Sending…</span>
          </Show>
          <Show when={status() === 'failed'}>
            <span class="msg-state failed">
              Not sent
              <Show when={error()}>{(e) => <span class="msg-error">: {e()}</span>}</Show>
              <button class="btn btn-link btn-xs" type="button" onClick={() => props.onRetry()}>
                Retry
              </button>
            </span>
          </Show>
        </div>
      </div>
    </>
  );
}
