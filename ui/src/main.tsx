/** The web UI: session handling and the page for each route. */
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, type Me, setCsrfToken, setUnauthenticatedHandler } from './api.ts';
import { Layout } from './components/Layout.tsx';
import { AccountPage, AuditPage, PoolsPage, UsersPage } from './pages/AdminPages.tsx';
import { DagListPage } from './pages/DagListPage.tsx';
import { DagPage } from './pages/DagPage.tsx';
import { DatasetListPage, DatasetPage } from './pages/DatasetPages.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { ReportsPage } from './pages/ReportsPage.tsx';
import { TaskPage } from './pages/TaskPage.tsx';
import { useRoute } from './router.ts';
import './styles.css';

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const route = useRoute();
  const session = (m: Me | null) => {
    setCsrfToken(m?.csrfToken);
    setMe(m);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once, at start
  useEffect(() => {
    setUnauthenticatedHandler(() => session(null));
    api.me().then(session, () => session(null));
  }, []);
  if (me === undefined) return <div className="loading">Loading…</div>;
  if (me === null) return <LoginPage onLogin={session} />;
  const [first, dagId, second, runId, third, taskId] = route.segments;
  let section = 'dags';
  let page: React.ReactNode;
  if (first === 'dags' && dagId && second === 'runs' && runId && third === 'tasks' && taskId) {
    page = <TaskPage dagId={dagId} runId={runId} taskId={taskId} route={route} me={me} />;
  } else if (first === 'dags' && dagId) {
    page = <DagPage key={dagId} dagId={dagId} route={route} me={me} />;
  } else if (first === 'datasets' && dagId) {
    section = 'datasets';
    page = <DatasetPage key={dagId} name={dagId} route={route} me={me} />;
  } else if (first === 'datasets') {
    section = 'datasets';
    page = <DatasetListPage />;
  } else if (first === 'reports') {
    section = 'reports';
    page = <ReportsPage route={route} />;
  } else if (first === 'audit') {
    section = 'audit';
    page = <AuditPage />;
  } else if (first === 'users') {
    section = 'users';
    page = <UsersPage me={me} />;
  } else if (first === 'pools') {
    section = 'pools';
    page = <PoolsPage me={me} />;
  } else if (first === 'account') {
    section = 'account';
    page = <AccountPage me={me} onSession={session} />;
  } else {
    page = <DagListPage me={me} />;
  }
  return (
    <Layout me={me} section={section} onLogout={() => session(null)}>
      {page}
    </Layout>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
