/** The top bar (navigation and user menu) around every page. */
import { type ReactNode, useState } from 'react';
import { api, type Me } from '../api.ts';
import { href } from '../router.ts';

export function Layout({
  me,
  section,
  children,
  onLogout,
}: {
  me: Me;
  section: string;
  children: ReactNode;
  onLogout: () => void;
}) {
  const [open, setOpen] = useState(false);
  const can = (c: Me['capabilities'][number]) => me.capabilities.includes(c);
  const link = (name: string, to: string, label: string) => (
    <a
      href={to}
      className={section === name ? 'active' : ''}
      aria-current={section === name ? 'page' : undefined}
    >
      {label}
    </a>
  );
  return (
    <>
      <header className="topbar">
        <a className="brand" href="#/">
          <span className="logo" aria-hidden="true">
            ▲
          </span>{' '}
          Updraft
        </a>
        <nav aria-label="main">
          {link('dags', '#/', 'DAGs')}
          {link('datasets', href(['datasets']), 'Datasets')}
          {link('reports', href(['reports']), 'Reports')}
          {link('pools', href(['pools']), 'Pools')}
          {can('configure') && link('audit', href(['audit']), 'Audit log')}
          {can('administer') && link('users', href(['users']), 'Users')}
          <a href="api/v1/openapi.json" target="_blank" rel="noreferrer">
            API
          </a>
        </nav>
        <div className="user-menu">
          <button
            type="button"
            aria-haspopup="menu"
            aria-expanded={open}
            onClick={() => setOpen(!open)}
          >
            {me.username} <span className="muted">({me.role})</span> ▾
          </button>
          {open && (
            <div className="menu" role="menu">
              <a role="menuitem" href={href(['account'])} onClick={() => setOpen(false)}>
                Password and API tokens
              </a>
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  setOpen(false);
                  void api.logout().finally(onLogout);
                }}
              >
                Log out
              </button>
            </div>
          )}
        </div>
      </header>
      <main>{children}</main>
    </>
  );
}
