/**
 * What the scheduler tells listeners after each committed tick: attempts that started
 * and finished, runs that finished, and the tick itself. Notifications, metrics and
 * traces (`src/observability`, `src/notify`) are built on these events; they arrive
 * only after the change is committed, and a listener that throws is logged, never
 * allowed to stop the loop.
 */
import type { DagSpec, TaskSpec } from '../core/dag-spec.ts';
import type { ExitReason, RunState, TaskState } from '../core/states.ts';
import type { AttemptKey } from '../executor/executor.ts';

export type SchedulerEvent =
  | {
      type: 'attempt_queued';
      key: AttemptKey;
      /** Milliseconds since epoch (scheduler clock). */
      at: number;
      pool: string;
    }
  | {
      type: 'attempt_started';
      key: AttemptKey;
      at: number;
      queuedAt: number;
      hostname: string;
    }
  | {
      type: 'attempt_finished';
      key: AttemptKey;
      spec: DagSpec;
      task: TaskSpec;
      /** The task instance's new state: success, failed, up_for_retry, skipped, scheduled (interrupted). */
      state: TaskState;
      exitReason: ExitReason;
      /** The error's message, for failures. */
      error: string | null;
      queuedAt: number;
      /** When the attempt started running, if it did. */
      startedAt: number | null;
      at: number;
    }
  | {
      type: 'run_finished';
      dagId: string;
      runId: string;
      spec: DagSpec;
      state: RunState;
      /** Why, when it did not end by its tasks (e.g. `dagrunTimeout exceeded`). */
      reason: string | null;
      at: number;
    }
  | { type: 'tick'; durationMs: number; at: number };

export type SchedulerListener = (event: SchedulerEvent) => void;
