import { hueOf, initials } from './format';

/** Initials on a colour derived from the id: the same person looks the same everywhere. */
export function Avatar(props: { id: string; name: string; size?: 'sm' | 'md' }) {
  return (
    <span
      class={`avatar avatar-${props.size ?? 'md'}`}
      style={{ '--hue': String(hueOf(props.id)) }}
      aria-hidden="true"
    >
      {initials(props.name)}
    </span>
  );
}
