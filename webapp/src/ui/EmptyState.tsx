import { type JSX, Show } from 'solid-js';
import { Icon, type IconName } from './Icon';

/** A friendly "nothing here yet" with what to do about it. */
export function EmptyState(props: { icon: IconName; title: string; children?: JSX.Element }) {
  return (
    <div class="empty">
      <span class="empty-icon">
        <Icon name={props.icon} size={28} />
      </span>
      <p class="empty-title">{props.title}</p>
      <Show when={props.children}>
        <div class="empty-text">{props.children}</div>
      </Show>
    </div>
  );
}
