import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { useTitle } from '../lib/title';
import { useSession } from '../session';

/** Only a path of this site is followed after sign-in (no open redirect through `next`). */
function safeNext(next: string | undefined): string {
  return next !== undefined && next.startsWith('/') && !next.startsWith('//') && next !== '/login' ? next : '/';
}

export function SignInPage() {
  useTitle('Sign in');
  const { signIn } = useSession();
  const { route, query } = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <section class="sign-in">
      <h1>Sign in</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          signIn(username, password).then(
            () => route(safeNext(query.next)),
            (err: unknown) => {
              setBusy(false);
              setError(err instanceof ApiError ? err.message : 'Sign-in failed.');
            },
          );
        }}
      >
        <label for="username">User name</label>
        <input id="username" name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        {error ? (
          <p class="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="muted">
        Users are made on the server: <code>portcullis user add NAME --admin</code>. Machines use API tokens (<code>portcullis token create</code>).
      </p>
    </section>
  );
}
