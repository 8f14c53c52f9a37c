/** Audit log, users (admins), pools, and the account page (password, API tokens). */
import { useState } from 'react';
import { api, type Me, type Role } from '../api.ts';
import { Confirm, ErrorNote } from '../components/common.tsx';
import { formatDate } from '../format.ts';
import { useLoad } from '../hooks.ts';

const ROLES: Role[] = ['viewer', 'user', 'op', 'admin'];

export function AuditPage() {
  const [username, setUsername] = useState('');
  const [action, setAction] = useState('');
  const [beforeId, setBeforeId] = useState<number>();
  const log = useLoad(
    () => api.audit({ username, action, beforeId }),
    `audit:${username}:${action}:${beforeId}`,
  );
  const rows = log.data ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Audit log</h1>
        <span className="muted">every change: who, what, when, from where</span>
      </div>
      <div className="filters">
        <input
          aria-label="user"
          placeholder="User"
          value={username}
          onChange={(e) => {
            setUsername(e.target.value);
            setBeforeId(undefined);
          }}
        />
        <input
          aria-label="action"
          placeholder="Action, e.g. dag.trigger"
          value={action}
          onChange={(e) => {
            setAction(e.target.value);
            setBeforeId(undefined);
          }}
        />
        <button type="button" onClick={log.reload}>
          Refresh
        </button>
      </div>
      <ErrorNote error={log.error} />
      <table className="table">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>Action</th>
            <th>Target</th>
            <th>Outcome</th>
            <th>From</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td className="nowrap">{formatDate(r.at)}</td>
              <td>
                {r.username ?? <span className="muted">—</span>}{' '}
                <span className="muted small">{r.via}</span>
              </td>
              <td>
                <code>{r.action}</code>
              </td>
              <td className="mono small">{r.target}</td>
              <td>
                <span className={`outcome ${r.outcome === 'ok' ? 'ok' : 'bad'}`}>{r.outcome}</span>
              </td>
              <td className="small" title={r.userAgent ?? ''}>
                {r.ip}
              </td>
              <td className="mono small details">
                {Object.keys(r.details).length ? JSON.stringify(r.details) : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 100 && (
        <button type="button" onClick={() => setBeforeId(rows.at(-1)?.id)}>
          Older entries
        </button>
      )}
    </div>
  );
}

export function UsersPage({ me }: { me: Me }) {
  const users = useLoad(() => api.users(), 'users');
  const [form, setForm] = useState({ username: '', role: 'viewer' as Role, password: '' });
  const [error, setError] = useState<Error>();
  const [removing, setRemoving] = useState<string>();
  const [resetting, setResetting] = useState<string>();
  const [newPassword, setNewPassword] = useState('');
  return (
    <div className="page">
      <div className="page-head">
        <h1>Users</h1>
      </div>
      <ErrorNote error={users.error ?? error} />
      <table className="table">
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th>Created</th>
            <th>Password changed</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(users.data ?? []).map((u) => (
            <tr key={u.username}>
              <td>{u.username}</td>
              <td>
                <select
                  aria-label={`role of ${u.username}`}
                  value={u.role}
                  onChange={(e) =>
                    api
                      .updateUser(u.username, { role: e.target.value as Role })
                      .then(users.reload, setError)
                  }
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </td>
              <td>{formatDate(u.createdAt)}</td>
              <td>{formatDate(u.passwordChangedAt)}</td>
              <td className="actions">
                <button type="button" onClick={() => setResetting(u.username)}>
                  Set password
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={u.username === me.username}
                  onClick={() => setRemoving(u.username)}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="card inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setError(undefined);
          api.createUser(form.username, form.role, form.password).then(() => {
            setForm({ username: '', role: 'viewer', password: '' });
            users.reload();
          }, setError);
        }}
      >
        <h2>New user</h2>
        <input
          aria-label="new user name"
          placeholder="User name"
          required
          value={form.username}
          onChange={(e) => setForm({ ...form, username: e.target.value })}
        />
        <select
          aria-label="new user role"
          value={form.role}
          onChange={(e) => setForm({ ...form, role: e.target.value as Role })}
        >
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
        <input
          aria-label="new user password"
          type="password"
          autoComplete="new-password"
          placeholder="Password (10+ characters)"
          required
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <button type="submit" className="primary">
          Create
        </button>
      </form>
      {removing && (
        <Confirm
          title="Delete user"
          message={`Delete ${removing} with their sessions and API tokens?`}
          confirmLabel="Delete"
          danger
          onClose={() => setRemoving(undefined)}
          onConfirm={() => api.deleteUser(removing).then(users.reload)}
        />
      )}
      {resetting && (
        <Confirm
          title={`Set the password of ${resetting}`}
          message="Their sessions end; API tokens keep working."
          confirmLabel="Set password"
          onClose={() => {
            setResetting(undefined);
            setNewPassword('');
          }}
          onConfirm={() => api.updateUser(resetting, { password: newPassword }).then(users.reload)}
        >
          <input
            aria-label="new password"
            type="password"
            autoComplete="new-password"
            value={newPassword}
            onChange={(e) => setNewPassword(e.target.value)}
          />
        </Confirm>
      )}
    </div>
  );
}

export function PoolsPage({ me }: { me: Me }) {
  const pools = useLoad(() => api.pools(), 'pools');
  const [editing, setEditing] = useState<{ name: string; slots: string; description: string }>();
  const canConfigure = me.capabilities.includes('configure');
  return (
    <div className="page">
      <div className="page-head">
        <h1>Pools</h1>
        <span className="spacer" />
        {canConfigure && (
          <button
            type="button"
            onClick={() => setEditing({ name: '', slots: '8', description: '' })}
          >
            New pool
          </button>
        )}
      </div>
      <ErrorNote error={pools.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Pool</th>
            <th>Occupied</th>
            <th>Slots</th>
            <th>Description</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(pools.data ?? []).map((p) => (
            <tr key={p.name}>
              <td>{p.name}</td>
              <td>
                <meter min={0} max={Math.max(1, p.slots)} value={p.occupied} /> {p.occupied}
              </td>
              <td>{p.slots}</td>
              <td>{p.description}</td>
              <td>
                {canConfigure && (
                  <button
                    type="button"
                    onClick={() =>
                      setEditing({
                        name: p.name,
                        slots: String(p.slots),
                        description: p.description ?? '',
                      })
                    }
                  >
                    Edit
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing && (
        <Confirm
          title={editing.name ? `Pool ${editing.name}` : 'New pool'}
          message="Slots are shared by every task that uses the pool."
          confirmLabel="Save"
          onClose={() => setEditing(undefined)}
          onConfirm={() =>
            api
              .setPool(editing.name, Number(editing.slots), editing.description || undefined)
              .then(pools.reload)
          }
        >
          <div className="form">
            <div className="field">
              <label htmlFor="pool-name">Name</label>
              <input
                id="pool-name"
                value={editing.name}
                onChange={(e) => setEditing({ ...editing, name: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor="pool-slots">Slots</label>
              <input
                id="pool-slots"
                type="number"
                min={0}
                value={editing.slots}
                onChange={(e) => setEditing({ ...editing, slots: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor="pool-desc">Description</label>
              <input
                id="pool-desc"
                value={editing.description}
                onChange={(e) => setEditing({ ...editing, description: e.target.value })}
              />
            </div>
          </div>
        </Confirm>
      )}
    </div>
  );
}

export function AccountPage({ me, onSession }: { me: Me; onSession: (me: Me) => void }) {
  const tokens = useLoad(() => api.tokens(), 'tokens');
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<Error>();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string>();
  return (
    <div className="page narrow-page">
      <div className="page-head">
        <h1>{me.username}</h1>
        <span className="muted">role {me.role}</span>
      </div>
      <ErrorNote error={error} />
      {message && <div className="banner ok">{message}</div>}
      <form
        className="card form"
        onSubmit={(e) => {
          e.preventDefault();
          setError(undefined);
          api.changePassword(current, next).then((m) => {
            onSession(m);
            setCurrent('');
            setNext('');
            setMessage('Password changed. Your other sessions have ended.');
          }, setError);
        }}
      >
        <h2>Change password</h2>
        <div className="field">
          <label htmlFor="pw-current">Current password</label>
          <input
            id="pw-current"
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="pw-new">New password (10+ characters)</label>
          <input
            id="pw-new"
            type="password"
            autoComplete="new-password"
            required
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        </div>
        <button type="submit" className="primary">
          Change password
        </button>
      </form>
      <div className="card">
        <h2>API tokens</h2>
        <p className="muted small">
          Send as <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you, with your
          role.
        </p>
        {created && (
          <div className="banner ok">
            New token (copy it now, it is not shown again): <code className="token">{created}</code>
          </div>
        )}
        <table className="table">
          <tbody>
            {(tokens.data ?? []).map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td className="mono small">{t.prefix}…</td>
                <td className="small">created {formatDate(t.createdAt)}</td>
                <td className="small">last used {formatDate(t.lastUsedAt)}</td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    onClick={() => api.revokeToken(t.id).then(tokens.reload, setError)}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            api.createToken(name).then((t) => {
              setCreated(t.token);
              setName('');
              tokens.reload();
            }, setError);
          }}
        >
          <input
            aria-label="token name"
            placeholder="Token name, e.g. ci"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit">Create token</button>
        </form>
      </div>
    </div>
  );
}
