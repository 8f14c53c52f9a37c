/** The pipeline's source file and the resolved spec the scheduler uses. */
import { useState } from 'react';
import { api, type DagDetail } from '../../api.ts';
import { ErrorNote } from '../../components/common.tsx';
import { useLoad } from '../../hooks.ts';

export function CodeView({ dag }: { dag: DagDetail }) {
  const source = useLoad(() => api.source(dag.dagId), `source:${dag.dagId}:${dag.versionHash}`);
  const [which, setWhich] = useState<'source' | 'spec'>('source');
  return (
    <div className="code-view">
      <fieldset className="segmented" aria-label="code">
        <button type="button" aria-pressed={which === 'source'} onClick={() => setWhich('source')}>
          Source
        </button>
        <button type="button" aria-pressed={which === 'spec'} onClick={() => setWhich('spec')}>
          Resolved spec
        </button>
        <span className="muted small">
          {dag.fileloc} · version {dag.versionHash.slice(0, 12)}
        </span>
      </fieldset>
      <ErrorNote error={source.error} />
      <pre className="code">
        <code>
          {which === 'source' ? (source.data?.code ?? '') : JSON.stringify(dag.spec, null, 2)}
        </code>
      </pre>
    </div>
  );
}
