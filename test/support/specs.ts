/**
 * Builds `DagSpec`s and `TaskSpec`s for tests with the documented defaults, so a test
 * states only what it is about. Every test that needs a spec written out builds it
 * here. (Pipelines written as users write them are in test/fixtures/pipelines.)
 */
import { createHash } from 'node:crypto';
import type { DagSpec, TaskSpec } from '../../src/core/dag-spec.ts';
import type { LoadedFile } from '../../src/store/queries/dags.ts';

/** A task as a test states it: its id and the fields that differ from the defaults. */
export type TaskInput = Partial<TaskSpec> & { taskId: string };

/** A DAG as a test states it: its id, its tasks and the fields that differ from the defaults. */
export type DagInput = Partial<Omit<DagSpec, 'tasks'>> & { dagId: string; tasks: TaskInput[] };

/**
 * A task spec with Updraft's defaults, except that it runs the shell command `true`
 * (operator `shell`, config `{ command: 'true' }`) unless `input` says otherwise.
 */
export function taskSpec(input: TaskInput): TaskSpec {
  return {
    operator: 'shell',
    config: { command: 'true' },
    upstream: [],
    triggerRule: 'all_success',
    retries: 0,
    retryDelayMs: 300_000,
    retryExponentialBackoff: false,
    maxRetryDelayMs: null,
    executionTimeoutMs: null,
    pool: 'default_pool',
    poolSlots: 1,
    priorityWeight: 1,
    queue: 'default',
    group: null,
    doc: null,
    inlets: [],
    outlets: [],
    connections: [],
    mapOver: null,
    branch: null,
    notify: { onSuccess: [], onFailure: [], onRetry: [], onDeadlineMiss: [] },
    deadline: null,
    ...input,
  };
}

/**
 * A DAG spec with Updraft's defaults, except owner `test` and `pausedOnCreation: false`
 * (a test DAG runs at once); each task built by `taskSpec`.
 */
export function dagSpec(input: DagInput): DagSpec {
  return {
    description: null,
    owner: 'test',
    tags: [],
    schedule: null,
    datasetSchedule: [],
    timezone: 'UTC',
    startDate: null,
    endDate: null,
    catchup: false,
    maxActiveRuns: 16,
    maxActiveTasks: 16,
    dagrunTimeoutMs: null,
    deadline: null,
    notify: { onSuccess: [], onFailure: [], onRetry: [], onDeadlineMiss: [] },
    params: { type: 'object', properties: {} },
    pausedOnCreation: false,
    groups: [],
    doc: null,
    ...input,
    tasks: input.tasks.map(taskSpec),
  };
}

/** A loaded-file record for `spec`, as the loader would report it. */
export function loadedFile(fileloc: string, ...specs: DagSpec[]): LoadedFile {
  return {
    fileloc,
    codeHash: hash(fileloc),
    dags: specs.map((spec) => ({ spec, versionHash: hash(JSON.stringify(spec)) })),
    issues: [],
  };
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
