import { Avatar } from './Avatar';
import { ConnectionStatus } from './ConnectionStatus';
import { useChat } from './context';
import { Logo } from './Logo';
import { Mentions } from './Mentions';
import { SearchBox } from './SearchBox';

/**
 * The signed-in banner: brand, message search, connection state, mentions, who is signed in,
 * log out.
 */
export function Header() {
  const { store, state } = useChat();
  const user = () => state().session?.user;
  return (
    <header class="topbar">
      <div class="brand">
        <Logo size={26} />
        <span class="brand-name">Parley</span>
      </div>
      <SearchBox />
      <ConnectionStatus />
      <Mentions />
      <div class="me">
        <Avatar id={user()?.id ?? ''} name={user()?.displayName ?? ''} size="sm" />
        <span class="me-name">{user()?.displayName}</span>
      </div>
      <button class="btn btn-ghost btn-sm" type="button" onClick={() => store.logout()}>
        Log out
      </button>
    </header>
  );
}
