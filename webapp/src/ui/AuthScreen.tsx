import { LIMITS } from '@parley/protocol/limits';
import { createSignal, Show } from 'solid-js';
import { errorText } from '../client/error-text';
import { useChat } from './context';
import { Logo } from './Logo';

const USERNAME_RE = /^[a-z0-9_.-]+$/;

/** What the server would refuse, said before asking it (sign-up only: a login just tries). */
function signupProblem(username: string, password: string): string | null {
  if (username.length < LIMITS.usernameMinChars || username.length > LIMITS.usernameMaxChars) {
    return `A username has ${LIMITS.usernameMinChars} to ${LIMITS.usernameMaxChars} characters.`;
  }
  if (!USERNAME_RE.test(username)) {
    return 'A username may contain only lowercase letters, digits and _ . -';
  }
  if (password.length < LIMITS.passwordMinChars) {
    return `A password has at least ${LIMITS.passwordMinChars} characters.`;
  }
  return null;
}

/** Log in or sign up; the store's `authMessage` says why a session ended. */
export function AuthScreen() {
  const { store, state } = useChat();
  const [mode, setMode] = createSignal<'login' | 'signup'>('login');
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const signup = () => mode() === 'signup';
  const message = () => error() ?? state().authMessage;

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    const displayName = String(form.get('displayName') ?? '').trim();
    const problem = signup() ? signupProblem(username, password) : null;
    if (problem) return setError(problem);
    if (!username || !password) return setError('Enter your username and password.');
    setBusy(true);
    setError(null);
    try {
      if (signup()) await store.signup(username, password, displayName || undefined);
      else await store.login(username, password);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const switchMode = () => {
    setMode(signup() ? 'login' : 'signup');
    setError(null);
  };

  return (
    <div class="auth">
      <div class="auth-card">
        <div class="auth-brand">
          <Logo size={40} />
          <h1>Parley</h1>
        </div>
        <p class="auth-tagline">
          {signup() ? 'Create your account to start chatting.' : 'Welcome back. Log in to chat.'}
        </p>
        <form class="auth-form" onSubmit={submit} novalidate>
          <label class="field">
            <span>Username</span>
            <input
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              maxLength={LIMITS.usernameMaxChars}
              required
              autofocus
              aria-describedby={signup() ? 'username-hint' : undefined}
            />
          </label>
          {/* Outside the label, so the field's accessible name stays "Username". */}
          <Show when={signup()}>
            <small id="username-hint" class="hint field-hint">
              3–32 characters: a–z, 0–9, _ . -
            </small>
          </Show>
          <Show when={signup()}>
            <label class="field">
              <span>Display name</span>
              <input
                name="displayName"
                autocomplete="name"
                maxLength={LIMITS.displayNameMaxChars}
                placeholder="How others see you"
              />
            </label>
          </Show>
          <label class="field">
            <span>Password</span>
            <input
              name="password"
              type="password"
              autocomplete={signup() ? 'new-password' : 'current-password'}
              maxLength={LIMITS.passwordMaxChars}
              required
              aria-describedby={signup() ? 'password-hint' : undefined}
            />
          </label>
          <Show when={signup()}>
            <small id="password-hint" class="hint field-hint">
              At least {LIMITS.passwordMinChars} characters
            </small>
          </Show>
          <Show when={message()}>
            <p class="form-error" role="alert">
              {message()}
            </p>
          </Show>
          <button class="btn btn-primary btn-block" type="submit" disabled={busy()}>
            {signup() ? 'Sign up' : 'Log in'}
          </button>
        </form>
        <button class="btn btn-link" type="button" onClick={switchMode}>
          {signup() ? 'I already have an account' : 'Create an account'}
        </button>
      </div>
    </div>
  );
}
