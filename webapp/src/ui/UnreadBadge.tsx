/** A count on a pill: the number to the eye, "3 unread messages" to a screen reader. */
export function UnreadBadge(props: { count: number; testId: string; label?: string }) {
  const shown = () => (props.count > 99 ? '99+' : String(props.count));
  const label = () =>
    props.label ?? `${props.count} unread ${props.count === 1 ? 'message' : 'messages'}`;
  return (
    <span class="badge" data-testid={props.testId} data-count={props.count}>
      <span aria-hidden="true">{shown()}</span>
      <span class="visually-hidden">{label()}</span>
    </span>
  );
}
