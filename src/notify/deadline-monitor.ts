/**
 * Deadlines (SLAs) of runs and tasks: the work should be done within `afterMs` of the
 * run's start (`from: 'start'`) or of its logical date (`from: 'logical_date'`: the data
 * interval end for scheduled runs, when the data is complete; the logical date
 * otherwise). A deadline that passes with the run (or the task: every instance of it)
 * not finished is a miss: recorded once in `deadline_misses`, reported through
 * `onMiss` (alert, metric). Nothing is stopped: the work continues.
 *
 * The monitor is its own component beside the scheduler, not part of its loop. It plans
 * the deadlines of queued and running runs from the store (at start, on a poll, and when
 * a scheduler event names a run it has not planned), keeps one timer on the injected
 * clock for the earliest deadline, and checks the store when it falls due. A restart
 * re-plans from the store; a miss already recorded is not raised twice.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { DagSpec, DeadlineSpec, TaskSpec } from '../core/dag-spec.ts';
import { FINISHED_TASK_STATES, isFinishedRunState } from '../core/states.ts';
import type { SchedulerEvent } from '../scheduler/scheduler-events.ts';
import type { Store } from '../store/store.ts';
import { recordDeadlineMiss } from './deadline-misses.ts';

/** A miss as raised: where, which deadline, and the spec for the alert's targets. */
export interface RaisedDeadlineMiss {
  dagId: string;
  runId: string;
  runState: string;
  /** Null for the run's own deadline. */
  task: TaskSpec | null;
  /** The task instance state(s) at the miss (task deadlines), e.g. `running`. */
  taskState: string | null;
  spec: DagSpec;
  deadline: DeadlineSpec;
  dueAt: number;
  /** When the run started (ms), if it has. */
  runStartedAt: number | null;
  detectedAt: number;
}

export interface DeadlineMonitorOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  onMiss: (miss: RaisedDeadlineMiss) => void;
  /** How often to look for runs to plan without an event (default 30 s). */
  pollMs?: number;
}

interface Check {
  runPk: number;
  dagId: string;
  runId: string;
  spec: DagSpec;
  task: TaskSpec | null;
  deadline: DeadlineSpec;
  dueAt: number;
  runStartedAt: number | null;
}

const FINISHED = new Set<string>(FINISHED_TASK_STATES);

export class DeadlineMonitor {
  private readonly checks = new Map<string, Check>();
  /** Runs whose deadlines are all planned, by `dagId\0runId`. */
  private readonly planned = new Set<string>();
  private readonly toPlan = new Set<string>();
  private work: Promise<void> = Promise.resolve();
  private cancelTimer: (() => void) | null = null;
  private timerAt: number | null = null;
  private cancelPoll: (() => void) | null = null;
  private running = false;
  private readonly pollMs: number;

  constructor(private readonly options: DeadlineMonitorOptions) {
    this.pollMs = options.pollMs ?? 30_000;
  }

  /** Plans the deadlines of the runs in progress and starts watching. */
  async start(): Promise<void> {
    this.running = true;
    this.enqueue(() => this.scan(null));
    await this.work;
    this.armPoll();
  }

  /** Stops watching (pending checks are re-planned by the next start). */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer?.();
    this.cancelPoll?.();
    await this.work;
  }

  /** Resolves when the checks and plans asked for so far are done (tests). */
  whenIdle(): Promise<void> {
    return this.work;
  }

  /** The scheduler listener: plans runs it has not seen, forgets finished ones. */
  readonly onSchedulerEvent = (event: SchedulerEvent): void => {
    if (!this.running) return;
    if (event.type === 'attempt_queued' || event.type === 'attempt_started') {
      const key = runKey(event.key.dagId, event.key.runId);
      if (this.planned.has(key) || this.toPlan.has(key)) return;
      this.toPlan.add(key);
      this.enqueue(async () => {
        this.toPlan.delete(key);
        await this.scan({ dagId: event.key.dagId, runId: event.key.runId });
      });
    } else if (event.type === 'run_finished') {
      const key = runKey(event.dagId, event.runId);
      this.planned.delete(key);
      for (const [id, check] of this.checks) {
        if (check.dagId === event.dagId && check.runId === event.runId) this.checks.delete(id);
      }
    }
  };

  private enqueue(fn: () => Promise<void>): void {
    this.work = this.work.then(fn).catch((err: unknown) => {
      this.options.log.error({ err, component: 'deadlines' }, 'deadline monitor failed');
    });
  }

  private armPoll(): void {
    if (!this.running) return;
    this.cancelPoll = this.options.clock.setTimer(this.pollMs, () => {
      this.enqueue(() => this.scan(null));
      this.armPoll();
    });
  }

  /** Plans the deadlines of queued/running runs (all, or one) not planned yet. */
  private async scan(only: { dagId: string; runId: string } | null): Promise<void> {
    const db = this.options.store.db;
    // First the ids (cheap), then the specs of the runs not planned yet.
    let active = db
      .selectFrom('dag_runs')
      .select(['id', 'dag_id', 'run_id'])
      .where('state', 'in', ['queued', 'running']);
    if (only) active = active.where('dag_id', '=', only.dagId).where('run_id', '=', only.runId);
    const ids = await active.execute();
    if (!only) {
      // Runs that ended without an event here (marked by hand, another scheduler).
      const live = new Set(ids.map((r) => runKey(r.dag_id, r.run_id)));
      for (const key of this.planned) if (!live.has(key)) this.planned.delete(key);
    }
    const unplanned = ids.filter((r) => !this.planned.has(runKey(r.dag_id, r.run_id)));
    if (unplanned.length === 0) {
      await this.checkDue();
      return;
    }
    const q = db
      .selectFrom('dag_runs as r')
      .innerJoin('dag_versions as v', (j) =>
        j.onRef('v.dag_id', '=', 'r.dag_id').onRef('v.version_hash', '=', 'r.version_hash'),
      )
      .select([
        'r.id',
        'r.dag_id',
        'r.run_id',
        'r.run_type',
        'r.logical_date',
        'r.data_interval_end',
        'r.started_at',
        'v.spec',
      ])
      .where(
        'r.id',
        'in',
        unplanned.map((r) => r.id),
      );
    for (const run of await q.execute()) {
      const key = runKey(run.dag_id, run.run_id);
      const startedAt = run.started_at ? new Date(run.started_at).getTime() : null;
      const logicalPoint = new Date(
        run.run_type === 'scheduled' ? run.data_interval_end : run.logical_date,
      ).getTime();
      let complete = true;
      const add = (task: TaskSpec | null, deadline: DeadlineSpec | null) => {
        if (!deadline) return;
        const base = deadline.from === 'start' ? startedAt : logicalPoint;
        if (base === null) {
          complete = false; // not started yet: planned once it starts
          return;
        }
        this.checks.set(`${run.id}/${task?.taskId ?? ''}`, {
          runPk: run.id,
          dagId: run.dag_id,
          runId: run.run_id,
          spec: run.spec,
          task,
          deadline,
          dueAt: base + deadline.afterMs,
          runStartedAt: startedAt,
        });
      };
      add(null, run.spec.deadline);
      for (const task of run.spec.tasks) add(task, task.deadline);
      if (complete) this.planned.add(key);
    }
    await this.checkDue();
  }

  /** Checks every deadline that has fallen due, then arms the timer for the next one. */
  private async checkDue(): Promise<void> {
    const now = this.options.clock.now();
    const due = [...this.checks.entries()].filter(([, c]) => c.dueAt <= now);
    for (const [id, check] of due) {
      this.checks.delete(id);
      await this.check(check, now);
    }
    this.armTimer();
  }

  private async check(c: Check, now: number): Promise<void> {
    const db = this.options.store.db;
    const run = await db
      .selectFrom('dag_runs')
      .select(['state'])
      .where('id', '=', c.runPk)
      .executeTakeFirst();
    if (!run || isFinishedRunState(run.state)) return;
    let taskState: string | null = null;
    if (c.task) {
      const instances = await db
        .selectFrom('task_instances')
        .select(['state'])
        .where('run_pk', '=', c.runPk)
        .where('task_id', '=', c.task.taskId)
        .execute();
      const open = instances.filter((i) => !FINISHED.has(i.state));
      if (instances.length > 0 && open.length === 0) return;
      taskState =
        [...new Set((open.length ? open : instances).map((i) => i.state))].join(', ') || 'none';
    }
    const fresh = await recordDeadlineMiss(
      db,
      {
        runPk: c.runPk,
        dagId: c.dagId,
        runId: c.runId,
        taskId: c.task?.taskId ?? null,
        deadline: c.deadline,
        dueAt: new Date(c.dueAt),
      },
      new Date(now),
    );
    if (!fresh) return;
    this.options.log.warn(
      {
        component: 'deadlines',
        dagId: c.dagId,
        runId: c.runId,
        taskId: c.task?.taskId,
        dueAt: new Date(c.dueAt).toISOString(),
      },
      c.task ? 'task missed its deadline' : 'run missed its deadline',
    );
    this.options.onMiss({
      dagId: c.dagId,
      runId: c.runId,
      runState: run.state,
      task: c.task,
      taskState,
      spec: c.spec,
      deadline: c.deadline,
      dueAt: c.dueAt,
      runStartedAt: c.runStartedAt,
      detectedAt: now,
    });
  }

  private armTimer(): void {
    if (!this.running) return;
    let next = Number.POSITIVE_INFINITY;
    for (const c of this.checks.values()) next = Math.min(next, c.dueAt);
    if (next === this.timerAt) return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.timerAt = null;
    if (next === Number.POSITIVE_INFINITY) return;
    this.timerAt = next;
    this.cancelTimer = this.options.clock.setTimer(
      Math.max(0, next - this.options.clock.now()),
      () => {
        this.timerAt = null;
        this.cancelTimer = null;
        this.enqueue(() => this.checkDue());
      },
    );
  }
}

function runKey(dagId: string, runId: string): string {
  return `${dagId}\u0000${runId}`;
}
