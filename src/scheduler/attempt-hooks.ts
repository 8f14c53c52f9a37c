/**
 * Attempt hooks: how a subsystem outside the engine (the data layer) takes part in an
 * attempt's life without the scheduler knowing its business, and without workers ever
 * touching the metadata store.
 *
 * - Before: when a task instance is queued, `prepareAttempt` resolves what the worker
 *   needs from the store — pinned input dataset versions, stored connections — inside
 *   the enqueue transaction. It runs only for tasks `needsPreparation` selects. If it
 *   throws, the attempt fails with its message (and retries if tries are left).
 * - After: when an attempt succeeds with effects (`ctx.addEffect`), `commitEffects`
 *   applies them in the transaction that records the success, fenced by try number — a
 *   stale attempt's effects are never committed. If it throws, the attempt fails with
 *   its message instead of succeeding, and nothing it did is kept; it is retried when
 *   tries are left, unless the error is a `TaskFailure` with `retry: false`.
 */
import type { TaskSpec } from '../core/dag-spec.ts';
import type { AttemptContext, AttemptEffect } from '../executor/executor.ts';
import type { Db } from '../store/store.ts';

/** The attempt a hook is called for. */
export interface HookTarget {
  runPk: number;
  dagId: string;
  runId: string;
  task: TaskSpec;
  mapIndex: number;
  tryNumber: number;
}

/** What `prepareAttempt` adds to the attempt's context. */
export type PreparedContext = Pick<AttemptContext, 'inputs' | 'connections'>;

export interface AttemptHooks {
  /** Whether `prepareAttempt` must run for this task (cheap, called per enqueue). */
  needsPreparation(task: TaskSpec): boolean;
  /** Resolves the task's inputs and connections; runs inside the enqueue transaction. */
  prepareAttempt(db: Db, target: HookTarget): Promise<PreparedContext>;
  /**
   * Commits a succeeded attempt's effects inside the transaction recording its success.
   * Returns the datasets that got a new version (they trigger dataset-scheduled DAGs),
   * and optionally `failure`: what was committed is kept, and the attempt is recorded as
   * failed without retry with this message (e.g. blocking quality checks failed).
   */
  commitEffects(
    db: Db,
    target: HookTarget,
    effects: readonly AttemptEffect[],
  ): Promise<{ updatedDatasets: string[]; failure?: string }>;
}

/** The message of a hook failure, as the attempt's error. */
export function hookErrorMessage(stage: 'preparing' | 'committing', error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return stage === 'preparing'
    ? `preparing the attempt failed: ${message}`
    : `committing the attempt's output failed: ${message}`;
}
