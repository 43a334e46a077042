import { createMemo } from 'solid-js';
import type { ConnectionStatus as Status } from '../client/connection';
import { useChat } from './context';

const LABEL: Record<Status, string> = {
  open: 'Connected',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** The socket's state, announced politely (role=status) when it changes. */
export function ConnectionStatus() {
  const { state } = useChat();
  const status = createMemo(() => state().connection);
  return (
    <span class="conn" data-state={status()} role="status" aria-label="Connection">
      <span class="conn-dot" aria-hidden="true" />
      <span class="conn-text">{LABEL[status()]}</span>
    </span>
  );
}
