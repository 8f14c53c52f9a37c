/** Trigger (a form generated from the DAG's params schema) and backfill dialogs. */
import { useState } from 'react';
import { ApiError, api, type DagDetail } from '../../api.ts';
import { ErrorNote, Modal } from '../../components/common.tsx';

interface ParamSchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  title?: string;
}

export function TriggerDialog({
  dag,
  onClose,
  onTriggered,
}: {
  dag: DagDetail;
  onClose: () => void;
  onTriggered: (runId: string) => void;
}) {
  const schema = (
    dag.spec as unknown as {
      params: { properties?: Record<string, ParamSchema>; required?: string[] };
    }
  ).params;
  const props = Object.entries(schema.properties ?? {});
  const [values, setValues] = useState<Record<string, string | boolean>>(() =>
    Object.fromEntries(
      props.map(([k, p]) => [
        k,
        kindOf(p) === 'boolean'
          ? Boolean(p.default)
          : p.default === undefined
            ? ''
            : typeof p.default === 'string'
              ? p.default
              : JSON.stringify(p.default),
      ]),
    ),
  );
  const [runId, setRunId] = useState('');
  const [error, setError] = useState<ApiError | Error>();
  const [busy, setBusy] = useState(false);
  const fieldError = (name: string) =>
    error instanceof ApiError &&
    (error.field === `params.${name}` || error.field?.startsWith(`params.${name}.`))
      ? error.message
      : null;

  const submit = () => {
    const params: Record<string, unknown> = {};
    try {
      for (const [k, p] of props) {
        const v = values[k];
        const kind = kindOf(p);
        if (kind === 'boolean') params[k] = Boolean(v);
        else if (v === '' || v === undefined) continue;
        else if (kind === 'integer' || kind === 'number') params[k] = Number(v);
        else if (kind === 'string' || p.enum) params[k] = v;
        else params[k] = JSON.parse(String(v));
      }
    } catch (e) {
      setError(new Error(`a JSON field is not valid JSON: ${(e as Error).message}`));
      return;
    }
    setBusy(true);
    api.trigger(dag.dagId, { params, ...(runId ? { runId } : {}) }).then(
      (run) => onTriggered(run.runId),
      (e: Error) => {
        setError(e);
        setBusy(false);
      },
    );
  };
  return (
    <Modal title={`Trigger ${dag.dagId}`} onClose={onClose}>
      <form
        className="modal-body form"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        {props.length === 0 && <p className="muted">This DAG takes no parameters.</p>}
        {props.map(([name, p]) => {
          const kind = kindOf(p);
          const problem = fieldError(name);
          const id = `param-${name}`;
          return (
            <div key={name} className={`field${problem ? ' invalid' : ''}`}>
              <label htmlFor={id}>
                {p.title ?? name} <span className="muted small">{p.enum ? 'one of' : kind}</span>
              </label>
              {kind === 'boolean' ? (
                <input
                  id={id}
                  type="checkbox"
                  checked={Boolean(values[name])}
                  onChange={(e) => setValues({ ...values, [name]: e.target.checked })}
                />
              ) : p.enum ? (
                <select
                  id={id}
                  value={String(values[name] ?? '')}
                  onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                >
                  {p.enum.map((o) => (
                    <option key={String(o)}>{String(o)}</option>
                  ))}
                </select>
              ) : kind === 'integer' || kind === 'number' ? (
                <input
                  id={id}
                  type="number"
                  step={kind === 'integer' ? 1 : 'any'}
                  value={String(values[name] ?? '')}
                  onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                />
              ) : kind === 'string' ? (
                <input
                  id={id}
                  value={String(values[name] ?? '')}
                  onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                />
              ) : (
                <textarea
                  id={id}
                  rows={3}
                  value={String(values[name] ?? '')}
                  onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                />
              )}
              {p.description && <div className="muted small">{p.description}</div>}
              {problem && <div className="field-error">{problem}</div>}
            </div>
          );
        })}
        <details>
          <summary>Advanced</summary>
          <div className="field">
            <label htmlFor="trigger-run-id">Run id (optional)</label>
            <input
              id="trigger-run-id"
              value={runId}
              placeholder="manual__<now>"
              onChange={(e) => setRunId(e.target.value)}
            />
          </div>
        </details>
        {error && !(error instanceof ApiError && error.field?.startsWith('params.')) && (
          <ErrorNote error={error} />
        )}
        <div className="modal-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Trigger run
          </button>
        </div>
      </form>
    </Modal>
  );
}

function kindOf(p: ParamSchema): string {
  const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
  return (
    t ??
    (typeof p.default === 'boolean' ? 'boolean' : typeof p.default === 'number' ? 'number' : 'json')
  );
}

export function BackfillDialog({
  dag,
  onClose,
  onCreated,
}: {
  dag: DagDetail;
  onClose: () => void;
  onCreated: () => void;
}) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [reprocess, setReprocess] = useState('none');
  const [maxActiveRuns, setMaxActiveRuns] = useState('10');
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  return (
    <Modal title={`Backfill ${dag.dagId}`} onClose={onClose}>
      <form
        className="modal-body form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!confirming) {
            setConfirming(true);
            return;
          }
          setBusy(true);
          api
            .backfill(dag.dagId, { from, to, reprocess, maxActiveRuns: Number(maxActiveRuns) })
            .then(onCreated, (err: Error) => {
              setError(err);
              setBusy(false);
              setConfirming(false);
            });
        }}
      >
        <p className="muted small">
          One run per interval of <code>{dag.schedule ?? 'no schedule'}</code> whose start is in the
          range.
        </p>
        <div className="row">
          <div className="field">
            <label htmlFor="bf-from">From</label>
            <input
              id="bf-from"
              type="date"
              required
              value={from}
              onChange={(e) => setFrom(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="bf-to">To</label>
            <input
              id="bf-to"
              type="date"
              required
              value={to}
              onChange={(e) => setTo(e.target.value)}
            />
          </div>
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor="bf-reprocess">Existing runs</label>
            <select
              id="bf-reprocess"
              value={reprocess}
              onChange={(e) => setReprocess(e.target.value)}
            >
              <option value="none">keep them</option>
              <option value="failed">re-run the failed ones</option>
              <option value="all">re-run all of them</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="bf-max">Runs at once</label>
            <input
              id="bf-max"
              type="number"
              min={1}
              max={1000}
              value={maxActiveRuns}
              onChange={(e) => setMaxActiveRuns(e.target.value)}
            />
          </div>
        </div>
        <ErrorNote error={error} />
        {confirming && (
          <p className="confirm-note" role="alert">
            Create runs of {dag.dagId} from {from} to {to}? Press the button again to confirm.
          </p>
        )}
        <div className="modal-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {confirming ? 'Yes, create the backfill' : 'Backfill'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
