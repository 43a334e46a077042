import { LIMITS } from '@parley/protocol/limits';
import { createMemo, createSignal, onMount, Show } from 'solid-js';
import { bodyLength, canSend } from '../client/chat-store';
import { useChat } from './context';
import { Icon } from './Icon';

/** Show the count of characters left once fewer than this remain. */
const SHOW_REMAINING_BELOW = 300;
/** Unsent text per room, so switching rooms does not lose a draft. */
const drafts = new Map<string, string>();
const wide = () => matchMedia('(min-width: 761px)').matches;

/**
 * Enter sends, Shift+Enter is a new line. Never sends during an IME
 * composition (the Enter that picks a candidate is not "send").
 */
export function Composer(props: { roomId: string; roomName: string }) {
  const { store } = useChat();
  const [text, setText] = createSignal(drafts.get(props.roomId) ?? '');
  let composing = false;
  let input!: HTMLTextAreaElement;
  const remaining = createMemo(() => LIMITS.messageBodyMaxChars - bodyLength(text()));
  const sendable = createMemo(() => canSend(text()));

  const grow = () => {
    input.style.height = 'auto';
    input.style.height = `${input.scrollHeight}px`;
  };
  const update = (v: string) => {
    setText(v);
    drafts.set(props.roomId, v);
    grow();
  };
  const send = () => {
    if (!sendable()) return;
    if (store.send(props.roomId, text()) !== null) update('');
    input.focus();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Enter' || e.shiftKey) return;
    // keyCode 229 is what browsers report for keys an IME is handling.
    if (e.isComposing || composing || e.keyCode === 229) return;
    e.preventDefault();
    send();
  };

  onMount(() => {
    grow();
    // On a phone, focusing would pop the keyboard over the conversation just opened. Later, so
    // that a dialog that opened this room has closed and handed focus back first.
    if (wide()) setTimeout(() => input.focus());
  });

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <div class="composer-row">
        <textarea
          ref={input}
          aria-label="Message"
          placeholder={`Message ${props.roomName}`}
          rows={1}
          value={text()}
          onInput={(e) => {
            update(e.currentTarget.value);
            // The person typed (not a send clearing the field): others see "typing…".
            store.typing(props.roomId, e.currentTarget.value);
          }}
          onKeyDown={onKeyDown}
          onCompositionStart={() => {
            composing = true;
          }}
          onCompositionEnd={() => {
            composing = false;
          }}
          aria-describedby="composer-count"
        />
        <button class="btn btn-primary send" type="submit" disabled={!sendable()}>
          <Icon name="send" size={18} />
          <span>Send</span>
        </button>
      </div>
      <div class="composer-meta">
        <span class="composer-hint">Enter to send · Shift+Enter for a new line</span>
        <span
          id="composer-count"
          class="counter"
          classList={{ over: remaining() < 0 }}
          aria-live="polite"
        >
          <Show when={remaining() < SHOW_REMAINING_BELOW}>
            {remaining() >= 0
              ? `${remaining()} characters left`
              : `${-remaining()} characters over the limit`}
          </Show>
        </span>
      </div>
    </form>
  );
}
