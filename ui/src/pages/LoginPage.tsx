/** The login form. */
import { useEffect, useRef, useState } from 'react';
import { api, type Me } from '../api.ts';
import { ErrorNote } from '../components/common.tsx';

export function LoginPage({ onLogin }: { onLogin: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div className="login">
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          api.login(username, password).then(onLogin, (err: Error) => {
            setError(err);
            setBusy(false);
          });
        }}
      >
        <h1>
          <span className="logo" aria-hidden="true">
            ▲
          </span>{' '}
          Updraft
        </h1>
        <label>
          User name
          <input
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            ref={first}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Log in
        </button>
        <p className="muted small">
          First start? <code>updraft standalone</code> printed the admin password, and wrote it to{' '}
          <code>.updraft/admin-password.txt</code>.
        </p>
      </form>
    </div>
  );
}
