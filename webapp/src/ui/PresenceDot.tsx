/**
 * A person's online dot. Decorative (the text next to it, or a visually hidden word, says it);
 * `data-online` is for the browser tests.
 */
export function PresenceDot(props: { userId: string; online: boolean }) {
  return (
    <span
      class="presence"
      classList={{ online: props.online }}
      data-testid={`presence-${props.userId}`}
      data-online={props.online ? 'true' : 'false'}
      aria-hidden="true"
    />
  );
}
