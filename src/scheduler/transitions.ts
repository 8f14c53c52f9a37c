/**
 * Every state change of DAG runs and task instances happens in this module, inside the
 * caller's transaction (see the state diagram in `src/core/states.ts`).
 *
 * Fencing: reports about an attempt change a task instance only while it is still
 * `queued`/`running` with the same try number, so a late report from a stale or
 * cancelled attempt is ignored instead of overwriting a newer one.
 *
 * The functions are set-based where they sit on the hot path (a scheduler tick applies
 * a whole batch of executor events with a handful of statements).
 */
import { sql, type Transaction } from 'kysely';
import { branchChoice } from '../core/branching.ts';
import type { DagSpec, Json, TaskSpec } from '../core/dag-spec.ts';
import { mapItems } from '../core/mapping.ts';
import { retryDelayMs } from '../core/retry.ts';
import type { RunState, RunType, TaskState } from '../core/states.ts';
import { isFinishedTaskState, isRetryableExit } from '../core/states.ts';
import { evaluateTriggerRule } from '../core/trigger-rules.ts';
import type { AttemptKey, AttemptRequest, ExecutorEvent } from '../executor/executor.ts';
import type { PlannedRun } from '../schedule/timetable.ts';
import type { DagVersion } from '../store/queries/dags.ts';
import { withSavepoint } from '../store/savepoint.ts';
import type { Database } from '../store/schema.ts';
import { type Db, toJson } from '../store/store.ts';
import { type AttemptHooks, hookErrorMessage } from './attempt-hooks.ts';
import {
  expandMappedTask,
  mappedResults,
  recordMappingFailure,
  upstreamValue,
} from './task-mapping.ts';

export type Tx = Transaction<Database>;

/** Looks up (and caches) the spec a run is pinned to, reading through the caller's transaction. */
export type SpecLookup = (db: Db, dagId: string, versionHash: string) => Promise<DagVersion>;

/** A task instance's identity inside the store. */
export interface TiRef {
  runPk: number;
  taskId: string;
  mapIndex: number;
}

/** What the scheduler must do after a transition: attempts to kill. */
export interface CancelOrder {
  key: AttemptKey;
  reason: string;
}

// ---------------------------------------------------------------------------------------
// Runs

export interface NewRun {
  version: DagVersion;
  runId: string;
  runType: RunType;
  planned: PlannedRun;
  params: { [key: string]: Json };
  backfillId?: number | null;
}

/**
 * Creates a run in `queued` with one task instance per task in `none`. Returns the run's
 * primary key, or null when a scheduled/backfill run for that logical date (or that
 * run id) already exists.
 */
export async function createRun(tx: Tx, run: NewRun, now: Date): Promise<number | null> {
  const inserted = await tx
    .insertInto('dag_runs')
    .values({
      dag_id: run.version.dagId,
      run_id: run.runId,
      run_type: run.runType,
      state: 'queued',
      logical_date: run.planned.logicalDate,
      data_interval_start: run.planned.dataIntervalStart,
      data_interval_end: run.planned.dataIntervalEnd,
      run_after: run.planned.runAfter,
      params: toJson(run.params),
      version_hash: run.version.versionHash,
      backfill_id: run.backfillId ?? null,
      queued_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return null;
  await insertTaskInstances(
    tx,
    inserted.id,
    run.version.dagId,
    run.runId,
    run.version.spec.tasks,
    now,
  );
  return inserted.id;
}

async function insertTaskInstances(
  tx: Tx,
  runPk: number,
  dagId: string,
  runId: string,
  tasks: readonly TaskSpec[],
  now: Date,
): Promise<void> {
  if (!tasks.length) return;
  await tx
    .insertInto('task_instances')
    .values(
      tasks.map((t) => ({
        run_pk: runPk,
        dag_id: dagId,
        run_id: runId,
        task_id: t.taskId,
        map_index: -1,
        state: 'none' as const,
        try_number: 0,
        max_tries: t.retries + 1,
        operator: t.operator,
        pool: t.pool,
        pool_slots: t.poolSlots,
        priority_weight: t.priorityWeight,
        queue: t.queue,
        updated_at: now,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * Moves queued runs to `running` while their DAG (or backfill) is under its
 * `maxActiveRuns`, oldest logical date first. Returns the started runs' keys.
 */
export async function startQueuedRuns(tx: Tx, specs: SpecLookup, now: Date): Promise<number[]> {
  const queued = await tx
    .selectFrom('dag_runs')
    .select(['id', 'dag_id', 'version_hash', 'backfill_id'])
    .where('state', '=', 'queued')
    .orderBy('logical_date')
    .orderBy('id')
    .limit(1000)
    .execute();
  if (!queued.length) return [];
  const dagIds = [...new Set(queued.map((r) => r.dag_id))];
  const running = await tx
    .selectFrom('dag_runs')
    .select(['dag_id', 'backfill_id', sql<number>`count(*)::int`.as('n')])
    .where('state', '=', 'running')
    .where('dag_id', 'in', dagIds)
    .groupBy(['dag_id', 'backfill_id'])
    .execute();
  const backfillIds = [...new Set(queued.map((r) => r.backfill_id).filter((b) => b !== null))];
  const backfillLimits = new Map<number, number>();
  if (backfillIds.length) {
    const rows = await tx
      .selectFrom('backfills')
      .select(['id', 'max_active_runs', 'state'])
      .where('id', 'in', backfillIds)
      .execute();
    for (const b of rows) backfillLimits.set(b.id, b.state === 'running' ? b.max_active_runs : 0);
  }
  // Backfill runs count against their backfill's limit; the others against the DAG's.
  const active = new Map<string, number>();
  const slotOf = (dagId: string, backfillId: number | null) =>
    backfillId === null ? `dag:${dagId}` : `backfill:${backfillId}`;
  for (const r of running) {
    const slot = slotOf(r.dag_id, r.backfill_id);
    active.set(slot, (active.get(slot) ?? 0) + r.n);
  }
  const start: number[] = [];
  for (const run of queued) {
    const slot = slotOf(run.dag_id, run.backfill_id);
    const limit =
      run.backfill_id === null
        ? (await specs(tx, run.dag_id, run.version_hash)).spec.maxActiveRuns
        : (backfillLimits.get(run.backfill_id) ?? 0);
    const n = active.get(slot) ?? 0;
    if (n >= limit) continue;
    active.set(slot, n + 1);
    start.push(run.id);
  }
  if (start.length) {
    await tx
      .updateTable('dag_runs')
      .set({ state: 'running', started_at: now })
      .where('id', 'in', start)
      .where('state', '=', 'queued')
      .execute();
  }
  return start;
}

/** Result of evaluating a run: the run's new state when it just finished. */
export interface RunEvaluation {
  runPk: number;
  dagId: string;
  runId: string;
  finished: RunState | null;
  backfillId: number | null;
  /**
   * Tasks this pass settled as skipped or upstream_failed whose downstream it did not
   * look at (targeted passes only): evaluate them as finished tasks next.
   */
  settled: string[];
}

/**
 * What to evaluate per run: `'all'` (a run just started, or changed from outside), or
 * the tasks that just finished — then only their downstream tasks are considered.
 */
export type EvaluationTargets = ReadonlyMap<number, ReadonlySet<string> | 'all'>;

const UNFINISHED: TaskState[] = ['none', 'scheduled', 'queued', 'running', 'up_for_retry'];

/**
 * Decides, for each `none` task instance of the given running runs whose upstream is
 * settled enough, whether it is `scheduled`, `skipped` or `upstream_failed` (trigger
 * rules, walked in topological order so skips cascade in one pass), and ends runs whose
 * task instances are all finished: `failed` if a leaf task failed or its upstream did,
 * else `success`.
 *
 * Only the task instances that can change are read: for a run whose targets are the
 * tasks that just finished, their downstream and those tasks' upstream — so the cost of
 * a tick does not grow with the size of the run.
 */
export async function evaluateRuns(
  tx: Tx,
  targets: EvaluationTargets,
  specs: SpecLookup,
  now: Date,
): Promise<RunEvaluation[]> {
  if (!targets.size) return [];
  const runs = await tx
    .selectFrom('dag_runs')
    .select(['id', 'dag_id', 'run_id', 'version_hash', 'backfill_id'])
    .where('id', 'in', [...targets.keys()])
    .where('state', '=', 'running')
    .execute();
  if (!runs.length) return [];

  // Which task instances to read.
  const plans = new Map<number, { spec: DagSpec; all: boolean; candidates: Set<string> }>();
  const wholeRuns: number[] = [];
  const partial: { runPk: number; taskIds: string[] }[] = [];
  for (const run of runs) {
    const { spec } = await specs(tx, run.dag_id, run.version_hash);
    const target = targets.get(run.id) ?? 'all';
    if (target === 'all') {
      plans.set(run.id, { spec, all: true, candidates: new Set() });
      wholeRuns.push(run.id);
      continue;
    }
    const graph = taskGraph(spec);
    const candidates = new Set<string>();
    for (const taskId of target)
      for (const child of graph.children.get(taskId) ?? []) candidates.add(child);
    const read = new Set(candidates);
    for (const c of candidates) for (const u of graph.tasks.get(c)?.upstream ?? []) read.add(u);
    plans.set(run.id, { spec, all: false, candidates });
    if (read.size) partial.push({ runPk: run.id, taskIds: [...read] });
  }
  const statesByRun = await readStates(tx, wholeRuns, partial);

  const changes: {
    runPk: number;
    taskId: string;
    state: 'scheduled' | 'skipped' | 'upstream_failed' | 'failed';
  }[] = [];
  /** Mapped tasks to expand, and those that could not (their reason). */
  const expansions: { run: MappedRun; task: TaskSpec; count: number }[] = [];
  const mappingFailures: { run: MappedRun; taskId: string; message: string }[] = [];
  const results: RunEvaluation[] = [];
  const maybeDone: { runPk: number; settled: number }[] = [];
  for (const run of runs) {
    const plan = plans.get(run.id);
    if (!plan) continue;
    const states = statesByRun.get(run.id) ?? new Map<string, TaskState>();
    const settled: string[] = [];
    const mappedRun = { runPk: run.id, dagId: run.dag_id, runId: run.run_id };
    let expanded = false;
    for (const task of plan.spec.tasks) {
      if (!plan.all && !plan.candidates.has(task.taskId)) continue;
      if (states.get(task.taskId) !== 'none') continue;
      const upstream = task.upstream.map((u) => states.get(u) ?? 'success');
      const decision = evaluateTriggerRule(task.triggerRule, upstream);
      if (decision === 'wait') continue;
      let next: (typeof changes)[number]['state'] =
        decision === 'run' ? 'scheduled' : decision === 'skip' ? 'skipped' : 'upstream_failed';
      if (next === 'scheduled' && task.mapOver) {
        // A mapped task expands now, into one instance per item of its upstream's result.
        const source = taskGraph(plan.spec).tasks.get(task.mapOver.upstream);
        const items = mapItems(
          task.mapOver,
          source ? await upstreamValue(tx, run.id, source) : undefined,
        );
        if (!items.ok) {
          next = 'failed';
          mappingFailures.push({ run: mappedRun, taskId: task.taskId, message: items.message });
        } else if (items.items.length === 0) next = 'skipped';
        else {
          states.set(task.taskId, 'scheduled');
          expansions.push({ run: mappedRun, task, count: items.items.length });
          expanded = true;
          continue;
        }
      }
      states.set(task.taskId, next);
      changes.push({ runPk: run.id, taskId: task.taskId, state: next });
      if (next !== 'scheduled') settled.push(task.taskId);
    }
    const scheduledNow =
      expanded || changes.some((c) => c.runPk === run.id && c.state === 'scheduled');
    // A targeted run that scheduled nothing may be done: count its unfinished tasks below.
    if (!plan.all && !scheduledNow) maybeDone.push({ runPk: run.id, settled: settled.length });
    const done = plan.all && [...states.values()].every((st) => isFinishedTaskState(st));
    results.push({
      runPk: run.id,
      dagId: run.dag_id,
      runId: run.run_id,
      finished: done ? runOutcome(plan.spec, states) : null,
      backfillId: run.backfill_id,
      settled: plan.all ? [] : settled,
    });
  }
  const open = await unfinishedCounts(
    tx,
    maybeDone.map((m) => m.runPk),
  );
  const needLeaves = maybeDone
    .filter((m) => (open.get(m.runPk) ?? 0) - m.settled === 0)
    .map((m) => m.runPk);
  if (changes.length) {
    const values = sql.join(
      changes.map((c) => sql`(${c.runPk}::int, ${c.taskId}::text, ${c.state}::text)`),
    );
    await sql`
      update task_instances as ti
         set state = v.state, updated_at = ${now},
             ended_at = case when v.state = 'scheduled' then null else ${now}::timestamptz end
        from (values ${values}) as v(run_pk, task_id, state)
       where ti.run_pk = v.run_pk and ti.task_id = v.task_id and ti.state = 'none'`.execute(tx);
  }
  for (const f of mappingFailures) await recordMappingFailure(tx, f.run, f.taskId, f.message, now);
  for (const e of expansions) await expandMappedTask(tx, e.run, e.task, e.count, now);
  if (needLeaves.length) {
    // Runs that just finished: their outcome depends on the leaf tasks.
    const leafStates = await readStates(
      tx,
      [],
      needLeaves.map((runPk) => ({ runPk, taskIds: taskGraph(plans.get(runPk)!.spec).leaves })),
    );
    for (const r of results) {
      if (!needLeaves.includes(r.runPk)) continue;
      const states = leafStates.get(r.runPk) ?? new Map<string, TaskState>();
      for (const c of changes) if (c.runPk === r.runPk) states.set(c.taskId, c.state);
      r.finished = runOutcome(plans.get(r.runPk)!.spec, states);
    }
  }
  for (const state of ['success', 'failed'] as const) {
    const ids = results.filter((r) => r.finished === state).map((r) => r.runPk);
    if (!ids.length) continue;
    await tx
      .updateTable('dag_runs')
      .set({ state, ended_at: now })
      .where('id', 'in', ids)
      .where('state', '=', 'running')
      .execute();
  }
  return results;
}

/** Task instance states, for whole runs and for some tasks of other runs. */
async function readStates(
  tx: Tx,
  wholeRuns: number[],
  partial: { runPk: number; taskIds: string[] }[],
): Promise<Map<number, Map<string, TaskState>>> {
  const out = new Map<number, Map<string, TaskState>>();
  const add = (rows: { run_pk: number; task_id: string; state: TaskState }[]) => {
    for (const ti of rows) {
      const m = out.get(ti.run_pk) ?? new Map<string, TaskState>();
      out.set(ti.run_pk, m);
      const seen = m.get(ti.task_id);
      m.set(ti.task_id, seen === undefined ? ti.state : combinedState(seen, ti.state));
    }
  };
  if (wholeRuns.length) {
    add(
      await tx
        .selectFrom('task_instances')
        .select(['run_pk', 'task_id', 'state'])
        .where('run_pk', 'in', wholeRuns)
        .execute(),
    );
  }
  const pairs = partial.flatMap((p) =>
    p.taskIds.map((taskId) => sql`(${p.runPk}::int, ${taskId}::text)`),
  );
  if (pairs.length) {
    const rows = await sql<{ run_pk: number; task_id: string; state: TaskState }>`
      select ti.run_pk, ti.task_id, ti.state
        from task_instances as ti
        join (values ${sql.join(pairs)}) as v(run_pk, task_id)
          on ti.run_pk = v.run_pk and ti.task_id = v.task_id`.execute(tx);
    add(rows.rows);
  }
  return out;
}

/** A run, as the mapping functions need it. */
type MappedRun = { runPk: number; dagId: string; runId: string };

/** Precedence of instance states when a mapped task's instances are seen as one state. */
const STATE_PRECEDENCE: Partial<Record<TaskState, number>> = {
  failed: 1,
  upstream_failed: 2,
  success: 3,
  skipped: 4,
};

/**
 * The state of a mapped task, seen by its downstream, from two of its instances' states:
 * unfinished while any instance is, then failed, upstream_failed, success, skipped.
 */
function combinedState(a: TaskState, b: TaskState): TaskState {
  return (STATE_PRECEDENCE[a] ?? 0) <= (STATE_PRECEDENCE[b] ?? 0) ? a : b;
}

/** Unfinished task instances per run. */
async function unfinishedCounts(tx: Tx, runPks: number[]): Promise<Map<number, number>> {
  if (!runPks.length) return new Map();
  const rows = await tx
    .selectFrom('task_instances')
    .select(['run_pk', sql<number>`count(*)::int`.as('n')])
    .where('run_pk', 'in', runPks)
    .where('state', 'in', UNFINISHED)
    .groupBy('run_pk')
    .execute();
  return new Map(rows.map((r) => [r.run_pk, r.n]));
}

interface TaskGraph {
  tasks: Map<string, TaskSpec>;
  children: Map<string, string[]>;
  leaves: string[];
}

const graphs = new WeakMap<DagSpec, TaskGraph>();

/** Task lookup, downstream lists and leaves of a spec (cached per spec object). */
function taskGraph(spec: DagSpec): TaskGraph {
  let graph = graphs.get(spec);
  if (!graph) {
    const children = new Map<string, string[]>();
    for (const t of spec.tasks)
      for (const u of t.upstream) children.set(u, [...(children.get(u) ?? []), t.taskId]);
    graph = {
      tasks: new Map(spec.tasks.map((t) => [t.taskId, t])),
      children,
      leaves: spec.tasks.filter((t) => !children.has(t.taskId)).map((t) => t.taskId),
    };
    graphs.set(spec, graph);
  }
  return graph;
}

/** The run's final state from its leaf tasks: failed if one failed or had an upstream fail. */
function runOutcome(spec: DagSpec, states: Map<string, TaskState>): RunState {
  const leafStates = taskGraph(spec).leaves.map((id) => states.get(id));
  return leafStates.some((st) => st === 'failed' || st === 'upstream_failed')
    ? 'failed'
    : 'success';
}

/** Marks a backfill completed once none of its runs is unfinished. */
export async function completeBackfills(tx: Tx, backfillIds: readonly number[], now: Date) {
  for (const id of new Set(backfillIds)) {
    const open = await tx
      .selectFrom('dag_runs')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('backfill_id', '=', id)
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirstOrThrow();
    if (open.n === 0) {
      await tx
        .updateTable('backfills')
        .set({ state: 'completed', ended_at: now })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .execute();
    }
  }
}

// ---------------------------------------------------------------------------------------
// Task instances: scheduled → queued (with an attempt)

export interface EnqueueLimits {
  /** Attempts that may be queued or running at once across all DAGs. */
  parallelism: number;
  /**
   * Attempts this scheduler's executor can still take (shared schedulers leave the rest
   * to the others); `Infinity` when the executor queues what it cannot run yet.
   */
  executorRoom: number;
  /** Slots of each pool (the `pools` table, cached by the caller). */
  pools: ReadonlyMap<string, number>;
  /** What is queued or running now: attempts, pool slots by pool, attempts by DAG. */
  active: ActiveCounts;
  /** Results the caller already knows, by `${runPk}/${taskId}` (undefined: none returned). */
  results: ResultCache;
}

/**
 * Task results known without reading the store, by run and task id; a missing task
 * means "unknown", a present one with `undefined` means "returned nothing".
 */
export type ResultCache = ReadonlyMap<number, ReadonlyMap<string, Json | undefined>>;

/** Queued and running attempts, as counted by the caller. */
export interface ActiveCounts {
  total: number;
  byPool: ReadonlyMap<string, number>;
  byDag: ReadonlyMap<string, number>;
}

/** Most candidates read per pass; more wait for the next tick. */
const MAX_CANDIDATES = 512;

/** An attempt created by `enqueueScheduled`, to hand to the executor after commit. */
export interface EnqueuedAttempt {
  ref: TiRef;
  request: AttemptRequest;
  /** Set when `AttemptHooks.prepareAttempt` failed: the attempt fails with it, unrun. */
  prepareError?: string;
  /** When it was queued and started (ms since epoch), kept by the scheduler for events. */
  queuedAt?: number;
  startedAt?: number;
}

/** How `enqueueScheduled` fills in attempt requests. */
export interface AttemptSetup {
  /** Log file of an attempt. */
  logPathFor: (key: AttemptKey) => string;
  /** Local dataset storage (`AttemptRequest.datasetsRoot`). */
  datasetsRoot: string;
  /** The data layer's hooks, when it takes part. */
  hooks: AttemptHooks | null;
  /** Recorded on each attempt: the scheduler queueing it. */
  schedulerId: string;
}

/**
 * Picks `scheduled` task instances of running runs, highest priority weight first (then
 * older logical date), within pool slots, each DAG's `maxActiveTasks` and the global
 * parallelism; moves them to `queued` with try number + 1 and records the attempt.
 */
export async function enqueueScheduled(
  tx: Tx,
  specs: SpecLookup,
  limits: EnqueueLimits,
  setup: AttemptSetup,
  now: Date,
): Promise<{ attempts: EnqueuedAttempt[]; missingPools: string[]; leftOver: boolean }> {
  const inFlight = limits.active.total;
  const poolUsed = new Map(limits.active.byPool);
  const dagActive = new Map(limits.active.byDag);
  const globalRoom = limits.parallelism - inFlight;
  const room = Math.min(globalRoom, limits.executorRoom);
  if (room <= 0) return { attempts: [], missingPools: [], leftOver: globalRoom > 0 };
  const candidates = await tx
    .selectFrom('task_instances as ti')
    .innerJoin('dag_runs as r', 'r.id', 'ti.run_pk')
    .select([
      'ti.run_pk',
      'ti.task_id',
      'ti.map_index',
      'ti.try_number',
      'ti.max_tries',
      'ti.pool',
      'ti.pool_slots',
      'r.dag_id',
      'r.run_id',
      'r.run_type',
      'r.version_hash',
      'r.logical_date',
      'r.data_interval_start',
      'r.data_interval_end',
      'r.params',
    ])
    .where('ti.state', '=', 'scheduled')
    .where('r.state', '=', 'running')
    .orderBy('ti.priority_weight', 'desc')
    .orderBy('r.logical_date')
    .orderBy('ti.run_pk')
    .orderBy('ti.task_id')
    .limit(Math.min(Math.max(room * 2, 64), MAX_CANDIDATES))
    .execute();
  if (!candidates.length) return { attempts: [], missingPools: [], leftOver: false };
  const pools = limits.pools;
  const missingPools = new Set<string>();
  const picked: (typeof candidates)[number][] = [];
  let leftOver = false;
  for (const c of candidates) {
    if (picked.length >= room) {
      // Full here; more could run elsewhere if the global limit has room.
      leftOver = picked.length < globalRoom;
      break;
    }
    const poolSlots = pools.get(c.pool);
    if (poolSlots === undefined) {
      missingPools.add(c.pool);
      continue;
    }
    const used = poolUsed.get(c.pool) ?? 0;
    if (used + c.pool_slots > poolSlots) continue;
    const { spec } = await specs(tx, c.dag_id, c.version_hash);
    const active = dagActive.get(c.dag_id) ?? 0;
    if (active >= spec.maxActiveTasks) continue;
    poolUsed.set(c.pool, used + c.pool_slots);
    dagActive.set(c.dag_id, active + 1);
    picked.push(c);
  }
  if (!picked.length) return { attempts: [], missingPools: [...missingPools], leftOver };

  const results = await upstreamResults(tx, picked, specs, limits.results);
  let attempts: EnqueuedAttempt[] = [];
  for (const c of picked) {
    const version = await specs(tx, c.dag_id, c.version_hash);
    const task = version.spec.tasks.find((t) => t.taskId === c.task_id);
    if (!task) continue;
    const key: AttemptKey = {
      dagId: c.dag_id,
      runId: c.run_id,
      taskId: c.task_id,
      mapIndex: c.map_index,
      tryNumber: c.try_number + 1,
    };
    const upstream: { [taskId: string]: Json } = {};
    for (const u of task.upstream) {
      const value = results.get(`${c.run_pk}/${u}`);
      if (value !== undefined) upstream[u] = value;
    }
    const request: AttemptRequest = {
      key,
      fileloc: version.fileloc,
      codeHash: version.codeHash,
      task,
      logPath: setup.logPathFor(key),
      datasetsRoot: setup.datasetsRoot,
      context: {
        runType: c.run_type,
        logicalDate: iso(c.logical_date),
        dataIntervalStart: iso(c.data_interval_start),
        dataIntervalEnd: iso(c.data_interval_end),
        params: c.params,
        maxTries: c.max_tries,
        upstreamResults: upstream,
      },
    };
    if (task.mapOver && c.map_index >= 0) {
      const items = mapItems(task.mapOver, upstream[task.mapOver.upstream]);
      request.context.mapItem = (items.ok ? items.items[c.map_index] : undefined) ?? null;
    }
    // Specs stored before `branch` existed lack it.
    if ((task.branch ?? null) !== null) {
      request.context.branchDownstream = taskGraph(version.spec).children.get(task.taskId) ?? [];
    }
    const ref = { runPk: c.run_pk, taskId: c.task_id, mapIndex: c.map_index };
    attempts.push({ ref, request, ...(await prepare(tx, setup.hooks, ref, request)) });
  }
  if (attempts.length) {
    // One statement: the task instances move to queued (fenced on `scheduled`) and their
    // attempt records are written.
    const tis = sql.join(
      attempts.map(
        ({ ref }) => sql`(${ref.runPk}::int, ${ref.taskId}::text, ${ref.mapIndex}::int)`,
      ),
    );
    const rows = sql.join(
      attempts.map(
        ({ ref, request }) =>
          sql`(${ref.runPk}::int, ${ref.taskId}::text, ${ref.mapIndex}::int, ${request.key.tryNumber}::int, ${request.key.dagId}::text, ${request.key.runId}::text, ${request.logPath}::text)`,
      ),
    );
    // Only the task instances still `scheduled` are queued, and only they get an attempt.
    const queued = await sql<{ run_pk: number; task_id: string; map_index: number }>`
      with queued as (
        update task_instances as ti
           set state = 'queued', try_number = ti.try_number + 1, queued_at = ${now},
               started_at = null, ended_at = null, next_retry_at = null, updated_at = ${now}
          from (values ${tis}) as v(run_pk, task_id, map_index)
         where ti.run_pk = v.run_pk and ti.task_id = v.task_id and ti.map_index = v.map_index
           and ti.state = 'scheduled'
        returning ti.run_pk, ti.task_id, ti.map_index
      )
      insert into task_attempts as a
        (run_pk, task_id, map_index, try_number, dag_id, run_id, state, queued_at, log_path,
         scheduler_id)
      select v.run_pk, v.task_id, v.map_index, v.try_number, v.dag_id, v.run_id, 'queued',
             ${now}::timestamptz, v.log_path, ${setup.schedulerId}::text
        from (values ${rows}) as v(run_pk, task_id, map_index, try_number, dag_id, run_id, log_path)
        join queued as q
          on q.run_pk = v.run_pk and q.task_id = v.task_id and q.map_index = v.map_index
      on conflict (run_pk, task_id, map_index, try_number) do update
         set state = 'queued', queued_at = excluded.queued_at, started_at = null,
             ended_at = null, exit_reason = null, error = null,
             scheduler_id = excluded.scheduler_id
      returning a.run_pk, a.task_id, a.map_index`.execute(tx);
    const live = new Set(queued.rows.map((r) => `${r.run_pk}/${r.task_id}/${r.map_index}`));
    attempts = attempts.filter(({ ref }) => live.has(`${ref.runPk}/${ref.taskId}/${ref.mapIndex}`));
  }
  return { attempts, missingPools: [...missingPools], leftOver };
}

/**
 * Runs `prepareAttempt` for a task that needs it, in a savepoint so that its failure
 * leaves the transaction usable; returns what to merge into the enqueued attempt.
 */
async function prepare(
  tx: Tx,
  hooks: AttemptHooks | null,
  ref: TiRef,
  request: AttemptRequest,
): Promise<Pick<EnqueuedAttempt, 'prepareError'>> {
  if (hooks === null || !hooks.needsPreparation(request.task)) return {};
  const { dagId, runId, mapIndex, tryNumber } = request.key;
  const target = { runPk: ref.runPk, dagId, runId, task: request.task, mapIndex, tryNumber };
  try {
    const prepared = await withSavepoint(tx, () => hooks.prepareAttempt(tx, target));
    Object.assign(request.context, prepared);
    return {};
  } catch (error) {
    return { prepareError: hookErrorMessage('preparing', error) };
  }
}

async function upstreamResults(
  tx: Tx,
  picked: { run_pk: number; task_id: string; dag_id: string; version_hash: string }[],
  specs: SpecLookup,
  known: ResultCache,
): Promise<Map<string, Json>> {
  const out = new Map<string, Json>();
  const wanted: { runPk: number; taskId: string }[] = [];
  const mapped: { runPk: number; taskId: string }[] = [];
  for (const c of picked) {
    const graph = taskGraph((await specs(tx, c.dag_id, c.version_hash)).spec);
    for (const u of graph.tasks.get(c.task_id)?.upstream ?? []) {
      const run = known.get(c.run_pk);
      if (graph.tasks.get(u)?.mapOver) mapped.push({ runPk: c.run_pk, taskId: u });
      else if (!run?.has(u)) wanted.push({ runPk: c.run_pk, taskId: u });
      else {
        const value = run.get(u);
        if (value !== undefined) out.set(`${c.run_pk}/${u}`, value);
      }
    }
  }
  for (const [key, list] of await mappedResults(tx, mapped)) out.set(key, list);
  if (!wanted.length) return out;
  const pairs = wanted.map((w) => sql`(${w.runPk}::int, ${w.taskId}::text)`);
  const rows = await sql<{ run_pk: number; task_id: string; value: Json }>`
    select r.run_pk, r.task_id, r.value
      from task_results as r
      join (values ${sql.join(pairs)}) as v(run_pk, task_id)
        on r.run_pk = v.run_pk and r.task_id = v.task_id
     where r.map_index = -1`.execute(tx);
  for (const r of rows.rows) out.set(`${r.run_pk}/${r.task_id}`, r.value);
  return out;
}

// ---------------------------------------------------------------------------------------
// Executor reports

/** An executor event with the attempt (as queued by `enqueueScheduled`) it reports on. */
export type LocatedEvent<E extends ExecutorEvent = ExecutorEvent> = {
  attempt: EnqueuedAttempt;
  event: E;
  /** With a `finished` event: its `started` report when both arrived in one batch. */
  started?: Extract<ExecutorEvent, { type: 'started' }>;
};

/** `queued → running` for every started report still current (fenced), attempt included. */
export async function recordStarted(
  tx: Tx,
  events: readonly LocatedEvent<Extract<ExecutorEvent, { type: 'started' }>>[],
  now: Date,
): Promise<void> {
  if (!events.length) return;
  const values = sql.join(
    events.map(
      ({ attempt: { ref }, event }) =>
        sql`(${ref.runPk}::int, ${ref.taskId}::text, ${ref.mapIndex}::int, ${event.key.tryNumber}::int, ${new Date(event.at)}::timestamptz, ${event.hostname}::text, ${event.pid}::int)`,
    ),
  );
  await sql`
    with v(run_pk, task_id, map_index, try_number, at, hostname, pid) as (values ${values}),
    ti as (
      update task_instances as ti
         set state = 'running', started_at = v.at, updated_at = ${now}
        from v
       where ti.run_pk = v.run_pk and ti.task_id = v.task_id and ti.map_index = v.map_index
         and ti.try_number = v.try_number and ti.state = 'queued'
    )
    update task_attempts as a
       set state = 'running', started_at = v.at, hostname = v.hostname, pid = v.pid
      from v
     where a.run_pk = v.run_pk and a.task_id = v.task_id and a.map_index = v.map_index
       and a.try_number = v.try_number and a.state = 'queued'`.execute(tx);
}

/** What `recordFinished` did with one report. */
export interface FinishOutcome {
  ref: TiRef;
  key: AttemptKey;
  /** The task instance's new state, or null when the report was stale and ignored. */
  state: TaskState | null;
  /** A branch task that succeeded: the direct downstream tasks it skipped. */
  skipped: string[];
}

/**
 * Applies finished reports (fenced): success (with its result), skipped, or a failure
 * that becomes `up_for_retry` (retryable reason and tries left; the delay follows
 * `retryDelayMs`) or `failed`. `interrupted`/`cancelled` reports for an attempt still
 * current put the task instance back to `scheduled` without using up a try.
 *
 * The decision uses what the attempt was queued with (try number, allowed tries, retry
 * policy); the fence — same try number, still queued or running — makes that safe, as
 * any change since (clear, mark) has moved the task instance out of those states. One
 * statement updates task instances, attempts and results together.
 */
export async function recordFinished(
  tx: Tx,
  events: readonly LocatedEvent<Extract<ExecutorEvent, { type: 'finished' }>>[],
  now: Date,
): Promise<FinishOutcome[]> {
  if (!events.length) return [];
  const planned = events.map(({ attempt, event, started }) => {
    const { ref, request } = attempt;
    const tryNumber = event.key.tryNumber;
    let state: TaskState;
    let nextRetryAt: Date | null = null;
    let bumpTries = false;
    if (event.outcome === 'success') state = 'success';
    else if (event.outcome === 'skipped') state = 'skipped';
    else if (event.exitReason === 'interrupted' || event.exitReason === 'cancelled') {
      state = 'scheduled';
      bumpTries = true;
    } else if (isRetryableExit(event.exitReason) && tryNumber < request.context.maxTries) {
      const seed = `${event.key.dagId}/${event.key.runId}/${ref.taskId}/${tryNumber}`;
      state = 'up_for_retry';
      nextRetryAt = new Date(now.getTime() + retryDelayMs(request.task, tryNumber, seed));
    } else state = 'failed';
    const attemptState: TaskState =
      event.outcome === 'success' ? 'success' : event.outcome === 'skipped' ? 'skipped' : 'failed';
    const error = event.error ? (event.error.stack ?? event.error.message) : null;
    const result =
      event.outcome === 'success' && event.result !== undefined
        ? JSON.stringify(event.result)
        : null;
    return {
      ref,
      attempt,
      event,
      started,
      tryNumber,
      state,
      nextRetryAt,
      bumpTries,
      attemptState,
      error,
      result,
    };
  });
  const values = sql.join(
    planned.map(
      (p) =>
        sql`(${p.ref.runPk}::int, ${p.ref.taskId}::text, ${p.ref.mapIndex}::int, ${p.tryNumber}::int, ${p.state}::text, ${p.nextRetryAt}::timestamptz, ${p.bumpTries}::boolean, ${p.attemptState}::text, ${p.event.exitReason}::text, ${p.error}::text, ${new Date(p.event.at)}::timestamptz, ${p.result}::jsonb, ${p.started ? new Date(p.started.at) : null}::timestamptz, ${p.started?.hostname ?? null}::text, ${p.started?.pid ?? null}::int)`,
    ),
  );
  const applied = await sql<{ run_pk: number; task_id: string; map_index: number }>`
    with v(run_pk, task_id, map_index, try_number, state, next_retry_at, bump, attempt_state, reason, error, at, result, started_at, hostname, pid) as (
      values ${values}
    ),
    ti as (
      update task_instances as ti
         set state = v.state,
             ended_at = case when v.state in ('success', 'failed', 'skipped') then ${now}::timestamptz else null end,
             next_retry_at = v.next_retry_at,
             max_tries = ti.max_tries + case when v.bump then 1 else 0 end,
             started_at = coalesce(ti.started_at, v.started_at),
             updated_at = ${now}
        from v
       where ti.run_pk = v.run_pk and ti.task_id = v.task_id and ti.map_index = v.map_index
         and ti.try_number = v.try_number and ti.state in ('queued', 'running')
      returning ti.run_pk, ti.task_id, ti.map_index
    ),
    attempts as (
      -- closed either way: a stale attempt record too, if it is still open
      update task_attempts as a
         set state = v.attempt_state, exit_reason = v.reason, error = v.error, ended_at = v.at,
             started_at = coalesce(a.started_at, v.started_at),
             hostname = coalesce(a.hostname, v.hostname), pid = coalesce(a.pid, v.pid)
        from v
       where a.run_pk = v.run_pk and a.task_id = v.task_id and a.map_index = v.map_index
         and a.try_number = v.try_number and a.state in ('queued', 'running')
    ),
    results as (
      insert into task_results (run_pk, task_id, map_index, value, size_bytes)
      select v.run_pk, v.task_id, v.map_index, v.result, octet_length(v.result::text)
        from v join ti using (run_pk, task_id, map_index)
       where v.result is not null
      on conflict (run_pk, task_id, map_index) do update
         set value = excluded.value, size_bytes = excluded.size_bytes
    )
    select run_pk, task_id, map_index from ti`.execute(tx);
  const live = new Set(applied.rows.map((r) => `${r.run_pk}/${r.task_id}/${r.map_index}`));
  const outcomes: FinishOutcome[] = [];
  for (const p of planned) {
    const state = live.has(`${p.ref.runPk}/${p.ref.taskId}/${p.ref.mapIndex}`) ? p.state : null;
    const skipped =
      state === 'success' ? await skipUnchosen(tx, p.ref.runPk, p.event, p.attempt, now) : [];
    outcomes.push({ ref: p.ref, key: p.event.key, state, skipped });
  }
  return outcomes;
}

/**
 * The choice of a branch task that succeeded: its direct downstream tasks it did not
 * choose, still waiting (`none`), become `skipped` (a mapped one's placeholder too).
 * Returns the tasks skipped; nothing for a task that is not a branch. The worker has
 * checked the choice (`task-runner.ts`); a result that is not one skips every
 * downstream task rather than run one the task did not choose.
 */
async function skipUnchosen(
  tx: Tx,
  runPk: number,
  event: Extract<ExecutorEvent, { type: 'finished' }>,
  attempt: EnqueuedAttempt,
  now: Date,
): Promise<string[]> {
  const { task, context } = attempt.request;
  // Specs stored before `branch` existed lack it.
  const branch = task.branch ?? null;
  if (branch === null) return [];
  const downstream = context.branchDownstream ?? [];
  const choice = branchChoice(task.taskId, branch, event.result, downstream);
  const skip = downstream.filter((id) => !choice.ok || !choice.follow.includes(id));
  if (!skip.length) return [];
  const rows = await tx
    .updateTable('task_instances')
    .set({ state: 'skipped', ended_at: now, updated_at: now })
    .where('run_pk', '=', runPk)
    .where('task_id', 'in', skip)
    .where('state', '=', 'none')
    .returning('task_id')
    .execute();
  return [...new Set(rows.map((r) => r.task_id))];
}

/** `up_for_retry → scheduled` once the retry delay has passed. Returns the runs touched. */
export async function promoteDueRetries(tx: Tx, now: Date): Promise<number[]> {
  const rows = await tx
    .updateTable('task_instances')
    .set({ state: 'scheduled', updated_at: now })
    .where('state', '=', 'up_for_retry')
    .where('next_retry_at', '<=', now)
    .returning('run_pk')
    .execute();
  return [...new Set(rows.map((r) => r.run_pk))];
}

/**
 * Attempts recorded as queued or running by a scheduler that is gone (restarted, or
 * dead: see `scheduler-registry.ts`) have no process behind them (local workers die
 * with their scheduler). Their attempts end as `interrupted` and the task instances go
 * back to `scheduled`; the lost try does not count against `retries`. Attempts queued by
 * the schedulers in `scope.keep` are left alone. Returns the runs touched.
 */
export async function resetInterruptedAttempts(
  tx: Tx,
  now: Date,
  scope: { keep: readonly string[]; why: string } = { keep: [], why: 'scheduler restarted' },
): Promise<number[]> {
  const keep = scope.keep.length ? scope.keep : [''];
  const rows = await sql<{ run_pk: number }>`
    with reset as (
      update task_attempts as a
         set state = 'failed', exit_reason = 'interrupted', ended_at = ${now}, error = ${scope.why}
       where a.state in ('queued', 'running')
         and (a.scheduler_id is null or a.scheduler_id not in (${sql.join(keep)}))
      returning a.run_pk, a.task_id, a.map_index, a.try_number
    )
    update task_instances as ti
       set state = 'scheduled', max_tries = ti.max_tries + 1, updated_at = ${now}
      from reset as r
     where ti.run_pk = r.run_pk and ti.task_id = r.task_id and ti.map_index = r.map_index
       and ti.try_number = r.try_number and ti.state in ('queued', 'running')
    returning ti.run_pk`.execute(tx);
  return [...new Set(rows.rows.map((r) => r.run_pk))];
}

// ---------------------------------------------------------------------------------------
// Operator actions: timeouts, clear, mark

/** Attempts in flight for the given task instances, to be cancelled after commit. */
async function inFlight(
  tx: Tx,
  where: { runPk: number; taskIds?: string[] },
): Promise<AttemptKey[]> {
  let q = tx
    .selectFrom('task_instances')
    .select(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number'])
    .where('run_pk', '=', where.runPk)
    .where('state', 'in', ['queued', 'running']);
  if (where.taskIds) q = q.where('task_id', 'in', where.taskIds.length ? where.taskIds : ['']);
  const rows = await q.execute();
  return rows.map((r) => ({
    dagId: r.dag_id,
    runId: r.run_id,
    taskId: r.task_id,
    mapIndex: r.map_index,
    tryNumber: r.try_number,
  }));
}

/** Closes the open attempt records of the given task instances as `cancelled`. */
async function cancelAttempts(tx: Tx, runPk: number, keys: AttemptKey[], why: string, now: Date) {
  for (const key of keys) {
    await tx
      .updateTable('task_attempts')
      .set({ state: 'failed', exit_reason: 'cancelled', error: why, ended_at: now })
      .where('run_pk', '=', runPk)
      .where('task_id', '=', key.taskId)
      .where('map_index', '=', key.mapIndex)
      .where('try_number', '=', key.tryNumber)
      .where('state', 'in', ['queued', 'running'])
      .execute();
  }
}

/**
 * Ends a run as `state`: with `failed`, in-flight task instances fail and the rest are
 * skipped; with `success`, every unfinished task instance is marked success. Returns the
 * attempts to kill.
 */
export async function finishRun(
  tx: Tx,
  runPk: number,
  state: 'success' | 'failed',
  why: string,
  now: Date,
): Promise<CancelOrder[]> {
  const keys = await inFlight(tx, { runPk });
  await cancelAttempts(tx, runPk, keys, why, now);
  await tx
    .updateTable('task_instances')
    .set({ state: state === 'success' ? 'success' : 'failed', ended_at: now, updated_at: now })
    .where('run_pk', '=', runPk)
    .where('state', 'in', ['queued', 'running'])
    .execute();
  await tx
    .updateTable('task_instances')
    .set({
      state: state === 'success' ? 'success' : 'skipped',
      ended_at: now,
      updated_at: now,
      next_retry_at: null,
    })
    .where('run_pk', '=', runPk)
    .where('state', 'in', ['none', 'scheduled', 'up_for_retry'])
    .execute();
  await tx.updateTable('dag_runs').set({ state, ended_at: now }).where('id', '=', runPk).execute();
  return keys.map((key) => ({ key, reason: why }));
}

/**
 * Clears task instances so they run again: back to `none` with a fresh allowance of
 * retries, results removed; a finished run goes back to `queued`. The run moves to the
 * DAG's current version (tasks new in it get task instances), so a fixed pipeline can be
 * re-run. In-flight attempts are closed as cancelled; the scheduler kills their
 * processes when the run's change signal reaches it.
 *
 * A cleared branch task chooses again: the tasks below it that are `skipped` (its
 * direct downstream, and theirs in turn while skipped) are cleared with it. Returns
 * those tasks, beyond the ones asked for.
 */
export async function clearTaskInstances(
  tx: Tx,
  runPk: number,
  taskIds: readonly string[],
  current: DagVersion,
  now: Date,
): Promise<string[]> {
  const run = await tx
    .selectFrom('dag_runs')
    .select(['dag_id', 'run_id', 'state'])
    .where('id', '=', runPk)
    .executeTakeFirstOrThrow();
  const belowBranches = await skippedBelowBranches(tx, runPk, taskIds, current.spec);
  const ids = [...taskIds, ...belowBranches];
  const keys = await inFlight(tx, { runPk, taskIds: ids });
  await cancelAttempts(tx, runPk, keys, 'cleared', now);
  if (ids.length) {
    // Mapped tasks expand again from their placeholder (re-created below).
    await tx
      .deleteFrom('task_instances')
      .where('run_pk', '=', runPk)
      .where('task_id', 'in', ids)
      .where('map_index', '>=', 0)
      .execute();
  }
  // Tasks new in the current version get task instances (mapped tasks keep theirs).
  const existing = await tx
    .selectFrom('task_instances')
    .select('task_id')
    .distinct()
    .where('run_pk', '=', runPk)
    .execute();
  const known = new Set(existing.map((r) => r.task_id));
  const added = current.spec.tasks.filter((t) => !known.has(t.taskId));
  await insertTaskInstances(tx, runPk, run.dag_id, run.run_id, added, now);
  const retries = new Map(current.spec.tasks.map((t) => [t.taskId, t.retries]));
  for (const taskId of ids) {
    await tx
      .updateTable('task_instances')
      .set((eb) => ({
        state: 'none',
        max_tries: eb('try_number', '+', (retries.get(taskId) ?? 0) + 1),
        queued_at: null,
        started_at: null,
        ended_at: null,
        next_retry_at: null,
        updated_at: now,
      }))
      .where('run_pk', '=', runPk)
      .where('task_id', '=', taskId)
      .execute();
  }
  if (ids.length) {
    await tx
      .deleteFrom('task_results')
      .where('run_pk', '=', runPk)
      .where('task_id', 'in', ids)
      .execute();
  }
  await tx
    .updateTable('dag_runs')
    .set({
      version_hash: current.versionHash,
      ...(run.state === 'success' || run.state === 'failed'
        ? { state: 'queued' as const, queued_at: now, ended_at: null }
        : {}),
    })
    .where('id', '=', runPk)
    .execute();
  return belowBranches;
}

/**
 * The tasks a branch among `taskIds` skipped in the run, followed down while they are
 * `skipped` (their downstream was skipped in turn), not counting `taskIds` themselves.
 */
async function skippedBelowBranches(
  tx: Tx,
  runPk: number,
  taskIds: readonly string[],
  spec: DagSpec,
): Promise<string[]> {
  const graph = taskGraph(spec);
  // Specs stored before `branch` existed lack it.
  const branches = taskIds.filter((id) => (graph.tasks.get(id)?.branch ?? null) !== null);
  if (!branches.length) return [];
  const rows = await tx
    .selectFrom('task_instances')
    .select('task_id')
    .distinct()
    .where('run_pk', '=', runPk)
    .where('state', '=', 'skipped')
    .execute();
  const skipped = new Set(rows.map((r) => r.task_id));
  const asked = new Set(taskIds);
  const found = new Set<string>();
  const stack = [...branches];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    for (const child of graph.children.get(id) ?? []) {
      if (!skipped.has(child) || found.has(child)) continue;
      found.add(child);
      stack.push(child);
    }
  }
  return [...found].filter((id) => !asked.has(id));
}

/**
 * Sets one task instance to `success` or `failed` by hand (its in-flight attempt is
 * killed); a finished run it belongs to goes back to `running` so downstream tasks
 * follow. An in-flight attempt is closed as cancelled; the scheduler kills its process
 * when the run's change signal reaches it.
 */
export async function markTaskInstance(
  tx: Tx,
  runPk: number,
  taskId: string,
  state: 'success' | 'failed',
  now: Date,
): Promise<void> {
  const keys = await inFlight(tx, { runPk, taskIds: [taskId] });
  await cancelAttempts(tx, runPk, keys, `marked ${state}`, now);
  await tx
    .updateTable('task_instances')
    .set({ state, ended_at: now, next_retry_at: null, updated_at: now })
    .where('run_pk', '=', runPk)
    .where('task_id', '=', taskId)
    .execute();
  await tx
    .updateTable('dag_runs')
    .set({ state: 'running', ended_at: null })
    .where('id', '=', runPk)
    .where('state', 'in', ['success', 'failed'])
    .execute();
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
