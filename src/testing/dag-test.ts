/**
 * `updraft dags test`: runs a whole DAG once, in this process, for development. No store,
 * no scheduler, no worker processes:
 *
 * 1. find the pipeline file defining the DAG and import it here (`importPipeline`), or
 *    compile it (YAML, `findYamlDag`);
 * 2. resolve the params against the DAG's schema (defaults applied);
 * 3. walk the tasks in topological order; each task's trigger rule, given its upstream
 *    states, says whether it runs, is skipped or is `upstream_failed`; a branch task that
 *    succeeded skips the direct downstream tasks it did not choose, as the scheduler does;
 * 4. run each task with the task runner (`runAttempt`), as a worker would, logging to a
 *    scratch folder (and to `onLog`), retrying right away (retry delays are not waited
 *    for), and passing results to the downstream tasks.
 *
 * The run fails when a task ends `failed` or `upstream_failed`.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Dag } from '../authoring/types.ts';
import { branchChoice } from '../core/branching.ts';
import type { DagSpec, Json, MapOver, TaskSpec } from '../core/dag-spec.ts';
import { NotFoundError, SpecError } from '../core/errors.ts';
import { mapItems } from '../core/mapping.ts';
import { resolveParams } from '../core/params.ts';
import type { ExitReason, TaskState } from '../core/states.ts';
import { isRetryableExit } from '../core/states.ts';
import { evaluateTriggerRule } from '../core/trigger-rules.ts';
import type { AttemptLogRecord } from '../executor/attempt-log.ts';
import type { AttemptContext, AttemptOutcome, AttemptRequest } from '../executor/executor.ts';
import { runAttempt } from '../executor/task-runner.ts';
import { topologicalOrder } from '../loader/dag-graph.ts';
import { discoverPipelineFiles } from '../loader/discover.ts';
import { importPipeline } from '../loader/import-pipeline.ts';
import { reviewDag } from '../loader/review-dag.ts';
import { TypeScriptSource } from '../loader/typescript-source.ts';
import { findYamlDag } from '../loader/yaml/find-yaml-dag.ts';
import { createTimetable, manualRunInterval, type PlannedRun } from '../schedule/timetable.ts';

export interface DagTestOptions {
  dagId: string;
  /** Folder searched for the file defining the DAG. */
  pipelinesDir: string;
  /** Updraft home, for the pipeline bundle cache. */
  home: string;
  /**
   * Logical date (ISO). On one of the schedule's ticks the run gets that interval;
   * otherwise (and by default, now) the interval of a manual run, [date, date].
   */
  logicalDate?: string;
  /** Run parameters, validated against the DAG's params schema (defaults applied). */
  params?: unknown;
  /** Folder for the attempt logs (default: a new folder in the system temp folder). */
  logsDir?: string;
  /** Aborting stops the running attempt (`cancelled`) and the run. */
  signal?: AbortSignal;
  /** Receives every log record of every attempt as it is written. */
  onLog?: (record: AttemptLogRecord) => void;
  /** Called as each task ends. */
  onTaskEnd?: (task: TaskTestResult) => void;
}

/** How one task ended in a test run. */
export interface TaskTestResult {
  taskId: string;
  /** Instance of a mapped task (0, 1, ...); -1 for an unmapped task. */
  mapIndex: number;
  state: 'success' | 'failed' | 'skipped' | 'upstream_failed';
  /** Tries made (0 when the task did not run). */
  tries: number;
  /** Wall time of all its tries, in ms. */
  durationMs: number;
  exitReason: ExitReason | null;
  error: string | null;
  /** The task's result (success only; absent when it returned nothing). */
  result?: Json;
  /** Log of the last try, null when it did not run. */
  logPath: string | null;
}

/** A whole test run. */
export interface DagTestResult {
  dagId: string;
  runId: string;
  fileloc: string;
  state: 'success' | 'failed';
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  params: { [key: string]: Json };
  durationMs: number;
  logsDir: string;
  /** In the order they ran. */
  tasks: TaskTestResult[];
}

/** Runs the DAG once in this process; see the module doc. */
export async function testDag(options: DagTestOptions): Promise<DagTestResult> {
  const started = performance.now();
  const { dag, fileloc, codeHash } = await findDag(options);
  const spec = dag.spec;
  const params = resolveParams(spec.dagId, spec.params, options.params);
  const planned = plannedInterval(spec, options.logicalDate);
  const runId = `test__${planned.logicalDate.toISOString()}`;
  const logsDir =
    options.logsDir ?? (await mkdtemp(path.join(os.tmpdir(), `updraft-test-${spec.dagId}-`)));
  const signal = options.signal ?? new AbortController().signal;

  const states = new Map<string, TaskState>();
  const results = new Map<string, Json>();
  const tasks: TaskTestResult[] = [];
  const downstream = new Map<string, string[]>();
  for (const t of spec.tasks)
    for (const u of t.upstream) downstream.set(u, [...(downstream.get(u) ?? []), t.taskId]);
  /** Tasks a branch task did not choose. */
  const unchosen = new Set<string>();
  for (const task of topologicalOrder(spec.tasks)) {
    const decision = evaluateTriggerRule(
      task.triggerRule,
      task.upstream.map((id) => states.get(id) ?? 'none'),
    );
    let outcomes: TaskTestResult[];
    if (signal.aborted || decision === 'upstream_failed' || decision === 'wait') {
      outcomes = [notRun(task.taskId, 'upstream_failed')];
    } else if (decision === 'skip' || unchosen.has(task.taskId)) {
      outcomes = [notRun(task.taskId, 'skipped')];
    } else {
      const context: AttemptContext = {
        runType: 'manual',
        logicalDate: planned.logicalDate.toISOString(),
        dataIntervalStart: planned.dataIntervalStart.toISOString(),
        dataIntervalEnd: planned.dataIntervalEnd.toISOString(),
        params,
        maxTries: task.retries + 1,
        upstreamResults: upstreamResults(task, results),
      };
      const branch = task.branch ?? null;
      if (branch !== null) context.branchDownstream = downstream.get(task.taskId) ?? [];
      const run = { task, context, runId, fileloc, codeHash, logsDir, options, signal };
      outcomes = task.mapOver ? await runMapped(run, task.mapOver) : [await runTask(run, -1)];
      if (branch !== null && outcomes[0]?.state === 'success') {
        const all = context.branchDownstream ?? [];
        const choice = branchChoice(task.taskId, branch, outcomes[0].result, all);
        for (const id of all) if (!choice.ok || !choice.follow.includes(id)) unchosen.add(id);
      }
    }
    // A mapped task counts as one for its downstream: its state combined, its results listed.
    states.set(task.taskId, combinedTestState(outcomes));
    if (task.mapOver && outcomes.some((o) => o.mapIndex >= 0)) {
      results.set(
        task.taskId,
        outcomes.map((o) => o.result ?? null),
      );
    } else if (outcomes[0]?.result !== undefined) results.set(task.taskId, outcomes[0].result);
    for (const outcome of outcomes) {
      tasks.push(outcome);
      options.onTaskEnd?.(outcome);
    }
  }
  const failed = tasks.some((t) => t.state === 'failed' || t.state === 'upstream_failed');
  return {
    dagId: spec.dagId,
    runId,
    fileloc,
    state: failed ? 'failed' : 'success',
    logicalDate: planned.logicalDate.toISOString(),
    dataIntervalStart: planned.dataIntervalStart.toISOString(),
    dataIntervalEnd: planned.dataIntervalEnd.toISOString(),
    params,
    durationMs: performance.now() - started,
    logsDir,
    tasks,
  };
}

interface TaskRun {
  task: TaskSpec;
  context: AttemptContext;
  runId: string;
  fileloc: string;
  codeHash: string;
  logsDir: string;
  options: DagTestOptions;
  signal: AbortSignal;
}

/** Runs one instance per item of a mapped task, as the scheduler would (see `MapOver`). */
async function runMapped(run: TaskRun, mapOver: MapOver): Promise<TaskTestResult[]> {
  const items = mapItems(mapOver, run.context.upstreamResults[mapOver.upstream]);
  if (!items.ok) {
    return [
      { ...notRun(run.task.taskId, 'upstream_failed'), state: 'failed', error: items.message },
    ];
  }
  if (items.items.length === 0) return [notRun(run.task.taskId, 'skipped')];
  const out: TaskTestResult[] = [];
  for (const [mapIndex, item] of items.items.entries()) {
    out.push(await runTask({ ...run, context: { ...run.context, mapItem: item } }, mapIndex));
  }
  return out;
}

/** The state a task's instances show downstream: failed if one failed, else the first's. */
function combinedTestState(outcomes: readonly TaskTestResult[]): TaskState {
  if (outcomes.some((o) => o.state === 'failed')) return 'failed';
  if (outcomes.some((o) => o.state === 'success')) return 'success';
  return outcomes[0]?.state ?? 'skipped';
}

/** Runs a task's tries back to back until one succeeds, skips, or no retry is left. */
async function runTask(run: TaskRun, mapIndex: number): Promise<TaskTestResult> {
  const { task, context } = run;
  const started = performance.now();
  let outcome: AttemptOutcome | undefined;
  let tryNumber = 0;
  let logPath = '';
  while (tryNumber < context.maxTries) {
    tryNumber++;
    const instance = mapIndex >= 0 ? `map_index=${mapIndex}` : '';
    logPath = path.join(run.logsDir, task.taskId, instance, `attempt=${tryNumber}.log`);
    const request: AttemptRequest = {
      key: {
        dagId: run.options.dagId,
        runId: run.runId,
        taskId: task.taskId,
        mapIndex,
        tryNumber,
      },
      fileloc: run.fileloc,
      codeHash: run.codeHash,
      task,
      context,
      logPath,
      datasetsRoot: path.join(run.logsDir, 'datasets'),
    };
    outcome = await runAttempt(request, { signal: run.signal, onLog: run.options.onLog });
    if (
      outcome.outcome !== 'failed' ||
      !isRetryableExit(outcome.exitReason) ||
      run.signal.aborted
    ) {
      break;
    }
  }
  const last = outcome ?? { outcome: 'failed', exitReason: 'error' };
  return {
    taskId: task.taskId,
    mapIndex,
    state: last.outcome,
    tries: tryNumber,
    durationMs: performance.now() - started,
    exitReason: last.exitReason,
    error: last.outcome === 'failed' ? (last.error?.message ?? 'failed') : null,
    ...(last.result === undefined ? {} : { result: last.result }),
    logPath,
  };
}

function notRun(taskId: string, state: 'skipped' | 'upstream_failed'): TaskTestResult {
  return {
    taskId,
    mapIndex: -1,
    state,
    tries: 0,
    durationMs: 0,
    exitReason: null,
    error: null,
    logPath: null,
  };
}

function upstreamResults(task: TaskSpec, results: Map<string, Json>): { [taskId: string]: Json } {
  const out: { [taskId: string]: Json } = {};
  for (const id of task.upstream) {
    const result = results.get(id);
    if (result !== undefined) out[id] = result;
  }
  return out;
}

/** The interval of the schedule starting at `logicalDate`, else a manual run's. */
function plannedInterval(spec: DagSpec, logicalDate: string | undefined): PlannedRun {
  const at = logicalDate === undefined ? new Date() : new Date(logicalDate);
  const tick = createTimetable(spec)?.between(at, at, 1)[0];
  return tick ?? manualRunInterval(at);
}

/**
 * Finds the file defining `dagId` and imports it. Files that mention the id come first,
 * so usually only one file is imported; a file that does not mention it and fails to
 * import is passed over (and named if the DAG is not found).
 */
async function findDag(
  options: DagTestOptions,
): Promise<{ dag: Dag; fileloc: string; codeHash: string }> {
  const yaml = await findYamlDag(options.pipelinesDir, options.dagId);
  if (yaml !== undefined) return yaml;
  const source = new TypeScriptSource({ home: options.home });
  const files = await discoverPipelineFiles(
    options.pipelinesDir,
    (f) => source.extensions.some((ext) => f.endsWith(ext)) && source.accepts(f),
  );
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => '')));
  const mentions = files.filter((_, i) => texts[i]?.includes(options.dagId));
  const others = files.filter((f) => !mentions.includes(f));
  const seen: string[] = [];
  const broken: string[] = [];
  for (const fileloc of [...mentions, ...others]) {
    let imported: Awaited<ReturnType<typeof importPipeline>>;
    try {
      imported = await importPipeline(fileloc, undefined, { home: options.home });
    } catch (error) {
      if (mentions.includes(fileloc)) throw error;
      broken.push(path.relative(options.pipelinesDir, fileloc));
      continue;
    }
    seen.push(...imported.dags.map((d) => d.dagId));
    const dag = imported.dags.find((d) => d.dagId === options.dagId);
    if (dag === undefined) continue;
    const { issues } = reviewDag(dag, fileloc);
    if (issues.length > 0) throw new SpecError(issues);
    return { dag, fileloc, codeHash: imported.codeHash };
  }
  const known = seen.length ? `; DAGs found: ${seen.sort().join(', ')}` : '';
  const failed = broken.length ? `; files that failed to import: ${broken.join(', ')}` : '';
  throw new NotFoundError(
    `no pipeline file in ${options.pipelinesDir} defines dag '${options.dagId}'${known}${failed}`,
  );
}
