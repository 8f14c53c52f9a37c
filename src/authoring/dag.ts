/**
 * `dag()`: the entry point of the TypeScript authoring API.
 *
 *     import { dag } from 'updraft';
 *
 *     export default dag({ id: 'daily_sales', schedule: '0 2 * * *', startDate: '2026-01-01' }, (d) => {
 *       const extract = d.task('extract', async (ctx) => ({ rows: 10 }));
 *       d.shell('report', { command: 'echo {{ ds }}' }, { upstream: [extract] });
 *     });
 *
 * A pipeline file exports its DAGs (default or named exports, or an exported array of
 * DAGs); the loader finds them with `isDag`.
 */
import type { DagSpec } from '../core/dag-spec.ts';
import type { TaskFunction } from '../core/task-context.ts';
import { DagBuilderImpl, DagDraft, reportDefaultsFields } from './builder.ts';
import { callSiteLocation, captureCallSite } from './call-site.ts';
import { finishDag } from './finish-dag.ts';
import { DAG_BRAND, type Dag, type DagBuilder, type DagOptions } from './types.ts';
import { reportUnknownFields } from './unknown-fields.ts';

/**
 * Name of a function on `globalThis` that `dag()` calls with every DAG it builds. The
 * loader process sets it while importing a file, to point out DAGs that were built but
 * not exported.
 */
export const DAG_CREATED_HOOK: unique symbol = Symbol.for('updraft.dagCreated');

const DAG_OPTIONS_FIELDS: Readonly<Record<keyof DagOptions, true>> = {
  id: true,
  description: true,
  owner: true,
  tags: true,
  schedule: true,
  timezone: true,
  startDate: true,
  endDate: true,
  catchup: true,
  maxActiveRuns: true,
  maxActiveTasks: true,
  dagrunTimeout: true,
  deadline: true,
  notify: true,
  params: true,
  pausedOnCreation: true,
  doc: true,
  defaults: true,
};

/**
 * Builds a DAG. `build` declares its tasks, groups and dependencies, synchronously.
 * Problems in the declaration (duplicate ids, dependencies on another DAG's tasks, bad
 * durations or dates) do not throw: they are collected in `dag.issues`, each with the
 * line it comes from, and the loader reports them together with the spec validator's.
 */
export function dag(options: DagOptions, build: (d: DagBuilder) => void): Dag {
  const site = captureCallSite();
  const given: Partial<DagOptions> = typeof options === 'object' && options !== null ? options : {};
  const draft = new DagDraft(given.id as string, site);
  if (given !== options) {
    draft.report({
      message: 'dag() needs an options object first',
      hint: "dag({ id: 'my_dag' }, (d) => { ... })",
    });
  }
  reportUnknownFields(given, DAG_OPTIONS_FIELDS, (key, hint) =>
    draft.report({ field: key, message: `unknown dag option '${key}'`, hint }),
  );
  reportDefaultsFields(draft, given.defaults, 'defaults', site);
  const builder = new DagBuilderImpl(draft, given.defaults ?? {});
  builder.run(build);
  draft.sealed = true;
  const spec = finishDag(draft, given as DagOptions);
  const functions = new Map<string, TaskFunction>();
  for (const task of draft.tasks.values())
    if (task.fn !== undefined) functions.set(task.taskId, task.fn);
  const built = createDag(spec, draft, functions);
  const hook = (globalThis as { [DAG_CREATED_HOOK]?: unknown })[DAG_CREATED_HOOK];
  if (typeof hook === 'function') hook(built);
  return built;
}

function createDag(spec: DagSpec, draft: DagDraft, functions: Map<string, TaskFunction>): Dag {
  const issues = Object.freeze([...draft.issues]);
  return Object.freeze({
    [DAG_BRAND]: true as const,
    dagId: spec.dagId,
    spec,
    issues,
    inputs: Object.freeze([...draft.inputs.values()]),
    taskFunction: (taskId: string) => functions.get(taskId),
    sourceLocation: (id?: string) =>
      callSiteLocation(
        id === undefined
          ? draft.site
          : (draft.tasks.get(id)?.site ?? draft.groups.get(id)?.site ?? draft.site),
      ),
  });
}

/** Whether `value` is a `Dag`, including one built by another copy of this module. */
export function isDag(value: unknown): value is Dag {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [DAG_BRAND]?: unknown })[DAG_BRAND] === true &&
    typeof (value as { spec?: unknown }).spec === 'object' &&
    typeof (value as { taskFunction?: unknown }).taskFunction === 'function'
  );
}
