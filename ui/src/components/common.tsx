/** Small shared pieces: state badges, modals, confirmations, error notes. */
import { type ReactNode, useEffect, useRef, useState } from 'react';

/** Task and run states in the order the legend shows them. */
export const STATES = [
  'success',
  'running',
  'queued',
  'scheduled',
  'up_for_retry',
  'failed',
  'upstream_failed',
  'skipped',
  'none',
] as const;

export function StateBadge({ state }: { state: string }) {
  return (
    <span className={`badge state-${state || 'none'}`}>{(state || 'none').replace('_', ' ')}</span>
  );
}

export function StateDot({ state, title }: { state: string; title?: string }) {
  return <span className={`dot state-${state || 'none'}`} title={title ?? state} />;
}

/** The state colours; with `late`, also the mark of a missed deadline. */
export function Legend({ late }: { late?: boolean }) {
  return (
    <div className="legend">
      {STATES.map((s) => (
        <span key={s}>
          <StateDot state={s} /> {s.replace('_', ' ')}
        </span>
      ))}
      {late && (
        <span>
          <span className="late-mark" aria-hidden="true" /> deadline missed
        </span>
      )}
    </div>
  );
}

export function ErrorNote({ error }: { error: Error | undefined | null }) {
  if (!error) return null;
  return (
    <div className="error-note" role="alert">
      {error.message}
    </div>
  );
}

/** A dialog: Escape or the close button closes it; focus starts inside. */
export function Modal({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    const first = ref.current?.querySelector<HTMLElement>(
      'input, select, textarea, button.primary',
    );
    first?.focus();
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="modal-backdrop">
      <div
        className={`modal${wide ? ' wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-label={title}
        ref={ref}
      >
        <div className="modal-head">
          <h2>{title}</h2>
          <button type="button" className="icon" onClick={onClose} aria-label="close">
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

/** Asks before doing something; shows the error if it fails. */
export function Confirm({
  title,
  message,
  confirmLabel,
  danger,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  children?: ReactNode;
}) {
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  return (
    <Modal title={title} onClose={onClose}>
      <div className="modal-body">
        <p>{message}</p>
        {children}
        <ErrorNote error={error} />
      </div>
      <div className="modal-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className={danger ? 'danger primary' : 'primary'}
          disabled={busy}
          onClick={() => {
            setBusy(true);
            onConfirm().then(onClose, (e: Error) => {
              setError(e);
              setBusy(false);
            });
          }}
        >
          {confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
