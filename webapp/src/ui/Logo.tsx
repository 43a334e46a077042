/** Parley's mark: two overlapping speech bubbles. */
export function Logo(props: { size?: number }) {
  return (
    <svg
      class="logo"
      width={props.size ?? 28}
      height={props.size ?? 28}
      viewBox="0 0 32 32"
      aria-hidden="true"
    >
      <rect x="2" y="4" width="20" height="16" rx="6" fill="var(--accent)" />
      <path d="M7 20l-1 6 6-6z" fill="var(--accent)" />
      <rect x="11" y="11" width="19" height="14" rx="6" fill="var(--accent-2)" />
      <path d="M25 25l1 5-6-5z" fill="var(--accent-2)" />
    </svg>
  );
}
