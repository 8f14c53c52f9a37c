/**
 * The DAG's backfills that are still running (with a cancel button), and the newest one
 * if it has ended, so a backfill that finished quickly is still seen.
 */
import { useState } from 'react';
import { api, type BackfillInfo } from '../../api.ts';
import { Confirm } from '../../components/common.tsx';
import { formatDate } from '../../format.ts';

export function RunningBackfills({
  backfills,
  canOperate,
  onChanged,
}: {
  backfills: BackfillInfo[];
  canOperate: boolean;
  onChanged: () => void;
}) {
  const [cancelling, setCancelling] = useState<BackfillInfo>();
  const newest = backfills[0];
  const shown = backfills.filter((b) => b.state === 'running' || b === newest);
  if (shown.length === 0) return null;
  return (
    <div className="banner info" role="status">
      {shown.map((b) => (
        <div key={b.id} className="backfill-line">
          <strong>Backfill {b.id}</strong> {formatDate(b.from)} → {formatDate(b.to)}:{' '}
          {b.runIds.length} run(s), at most {b.maxActiveRuns} at once{' '}
          <span className="badge">{b.state}</span>
          {canOperate && b.state === 'running' && (
            <button type="button" className="link" onClick={() => setCancelling(b)}>
              cancel
            </button>
          )}
        </div>
      ))}
      {cancelling && (
        <Confirm
          title={`Cancel backfill ${cancelling.id}`}
          message="Runs of the backfill that have not started end as failed; running ones finish."
          confirmLabel="Cancel backfill"
          danger
          onClose={() => setCancelling(undefined)}
          onConfirm={() => api.cancelBackfill(cancelling.id).then(onChanged)}
        />
      )}
    </div>
  );
}
