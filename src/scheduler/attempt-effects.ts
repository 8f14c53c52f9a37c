/**
 * Committing what succeeded attempts produced (`AttemptEffect`s: staged dataset
 * versions, watermarks through `AttemptHooks.commitEffects`; runs of other DAGs that
 * `trigger_dag` tasks ask for, which the engine creates itself), in the scheduler's
 * transaction, just before `recordFinished` records the successes.
 *
 * Only a success that is still current (same try number, task instance queued or
 * running) commits: a stale attempt's effects are dropped with its report. A commit
 * that throws is undone (savepoint) and the success becomes a failure with the reason,
 * retried like any error when tries are left (not when it throws a `TaskFailure` with
 * `retry: false`). A commit that returns `failure` is kept, and the success becomes a
 * failure without retry (the same output would fail again). Each commit is a span under
 * the attempt's (`traceAttemptCommit`).
 */
import { sql } from 'kysely';
import { TaskFailure } from '../core/errors.ts';
import type { ExecutorEvent } from '../executor/executor.ts';
import { traceAttemptCommit } from '../observability/tracing.ts';
import { parseTriggerRunRequest, TRIGGER_RUN_EFFECT } from '../operators/trigger-dag-operator.ts';
import { withSavepoint } from '../store/savepoint.ts';
import { type AttemptHooks, hookErrorMessage } from './attempt-hooks.ts';
import type { LocatedEvent, SpecLookup, Tx } from './transitions.ts';
import { createTriggeredRuns } from './triggered-runs.ts';

type Finished = LocatedEvent<Extract<ExecutorEvent, { type: 'finished' }>>;

/**
 * The reports to record (failed commits rewritten as failures), the datasets updated
 * and the DAGs that got a triggered run.
 */
export interface CommittedEffects {
  finished: Finished[];
  updatedDatasets: string[];
  triggeredDags: string[];
}

export async function commitAttemptEffects(
  tx: Tx,
  finished: readonly Finished[],
  hooks: AttemptHooks | null,
  specs: SpecLookup,
  now: Date,
): Promise<CommittedEffects> {
  const withEffects = finished.filter(
    (f) => f.event.outcome === 'success' && (f.event.effects?.length ?? 0) > 0,
  );
  if (!withEffects.length) {
    return { finished: [...finished], updatedDatasets: [], triggeredDags: [] };
  }
  const current = await currentAttempts(tx, withEffects);
  const updated = new Set<string>();
  const triggered = new Set<string>();
  const failures = new Map<Finished, { message: string; retry: boolean }>();
  for (const f of withEffects) {
    const { ref, request } = f.attempt;
    if (!current.has(`${ref.runPk}/${ref.taskId}/${ref.mapIndex}/${f.event.key.tryNumber}`)) {
      continue; // stale: recordFinished ignores the report, and its effects go with it
    }
    // Triggered runs are the engine's own effect; the rest belong to the hooks.
    const effects = f.event.effects ?? [];
    const triggers = effects
      .filter((e) => e.kind === TRIGGER_RUN_EFFECT)
      .map((e) => parseTriggerRunRequest(e.data));
    const hooked = effects.filter((e) => e.kind !== TRIGGER_RUN_EFFECT);
    if (hooks === null && hooked.length > 0) {
      failures.set(f, {
        message: hookErrorMessage('committing', new Error('no data layer is configured')),
        retry: true,
      });
      continue;
    }
    const { dagId, runId, mapIndex, tryNumber } = f.event.key;
    const target = { runPk: ref.runPk, dagId, runId, task: request.task, mapIndex, tryNumber };
    try {
      const done = await withSavepoint(tx, () =>
        traceAttemptCommit(f.event.key, async () => {
          const committed =
            hooks === null || hooked.length === 0
              ? { updatedDatasets: [] }
              : await hooks.commitEffects(tx, target, hooked);
          const runs = await createTriggeredRuns(tx, triggers, specs, now);
          return { ...committed, runs };
        }),
      );
      for (const name of done.updatedDatasets) updated.add(name);
      for (const name of done.runs) triggered.add(name);
      // Committed, yet a failure (blocking quality checks): kept, and no retry.
      if (done.failure !== undefined) failures.set(f, { message: done.failure, retry: false });
    } catch (error) {
      // A refusal that would repeat (e.g. a promotion the policy forbids) says so.
      const retry = !(error instanceof TaskFailure && !error.retry);
      failures.set(f, { message: hookErrorMessage('committing', error), retry });
    }
  }
  return {
    finished: finished.map((f) => {
      const failure = failures.get(f);
      if (failure === undefined) return f;
      const { result: _, effects: __, ...event } = f.event;
      const exitReason = failure.retry ? ('error' as const) : ('error_no_retry' as const);
      return {
        ...f,
        event: { ...event, outcome: 'failed', exitReason, error: { message: failure.message } },
      };
    }),
    updatedDatasets: [...updated],
    triggeredDags: [...triggered],
  };
}

/** Keys `${runPk}/${taskId}/${mapIndex}/${tryNumber}` of the reports that are still current. */
async function currentAttempts(tx: Tx, reports: readonly Finished[]): Promise<Set<string>> {
  const values = sql.join(
    reports.map(
      ({ attempt: { ref }, event }) =>
        sql`(${ref.runPk}::int, ${ref.taskId}::text, ${ref.mapIndex}::int, ${event.key.tryNumber}::int)`,
    ),
  );
  const rows = await sql<{
    run_pk: number;
    task_id: string;
    map_index: number;
    try_number: number;
  }>`
    select ti.run_pk, ti.task_id, ti.map_index, ti.try_number
      from task_instances as ti
      join (values ${values}) as v(run_pk, task_id, map_index, try_number)
        on ti.run_pk = v.run_pk and ti.task_id = v.task_id and ti.map_index = v.map_index
       and ti.try_number = v.try_number
     where ti.state in ('queued', 'running')`.execute(tx);
  return new Set(rows.rows.map((r) => `${r.run_pk}/${r.task_id}/${r.map_index}/${r.try_number}`));
}
