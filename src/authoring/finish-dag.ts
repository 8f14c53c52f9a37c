/**
 * Turns a `DagDraft` into a `DagSpec`: resolves dependencies on groups to task edges,
 * applies defaults, converts durations and dates, computes effective priority weights
 * and puts the tasks in a stable topological order.
 *
 * A dependency on a group resolves as in Airflow: `x` before group `g` makes every task
 * of `g` with no upstream inside `g` (its roots) wait for `x`; group `g` before `y` makes
 * `y` wait for every task of `g` with no downstream inside `g` (its leaves). Edges inside
 * a group are resolved first, so nested groups compose.
 */
import type { DagSpec, JsonSchema, TaskSpec } from '../core/dag-spec.ts';
import { parseDuration } from '../core/duration.ts';
import {
  effectivePriorityWeights,
  topologicalOrder,
  type WeightedTask,
} from '../loader/dag-graph.ts';
import { type DagDraft, DraftNode, TaskGroupImpl, TaskRefImpl } from './builder.ts';
import type { CallSite } from './call-site.ts';
import { toUtcInstant } from './dates.ts';
import { plainJson } from './json-values.ts';
import { deadlineSpec, notifySpec, resolveTaskSettings } from './task-settings.ts';
import type { DagOptions, Upstream } from './types.ts';

/** Defaults of the DAG-level fields. */
export const DAG_DEFAULTS = {
  owner: 'updraft',
  timezone: 'UTC',
  catchup: false,
  maxActiveRuns: 16,
  maxActiveTasks: 16,
} as const;

/** One end of an edge: a task, a group, or an id that names neither (kept for the validator). */
type Endpoint =
  | { kind: 'task'; id: string }
  | { kind: 'group'; id: string }
  | { kind: 'unknown'; id: string };

/** Builds the spec of a draft whose build function has returned. */
export function finishDag(draft: DagDraft, options: DagOptions): DagSpec {
  const upstream = resolveEdges(draft);
  const weighted: (TaskSpec & WeightedTask)[] = [];
  for (const task of draft.tasks.values()) {
    const { weightRule, ...settings } = resolveTaskSettings(task.settings, (field, message) =>
      draft.report(
        { taskId: task.taskId, field: `tasks.${task.taskId}.${field}`, message },
        task.site,
      ),
    );
    weighted.push({
      taskId: task.taskId,
      operator: task.operator,
      config: task.config,
      upstream: upstream.get(task.taskId) ?? [],
      ...settings,
      weightRule,
      group: task.groupId,
      doc: task.doc,
      inlets: task.inlets,
      outlets: task.outlets,
      connections: task.connections,
      mapOver: task.mapOver,
      branch: task.branch,
    });
  }
  const weights = effectivePriorityWeights(weighted);
  const tasks: TaskSpec[] = topologicalOrder(weighted).map(({ weightRule: _, ...task }) => ({
    ...task,
    priorityWeight: weights.get(task.taskId) ?? task.priorityWeight,
  }));
  const timezone = options.timezone ?? DAG_DEFAULTS.timezone;
  return {
    dagId: draft.dagId,
    description: options.description ?? null,
    owner: options.owner ?? DAG_DEFAULTS.owner,
    tags: [...(options.tags ?? [])],
    ...schedule(draft, options.schedule),
    timezone,
    startDate: instant(draft, 'startDate', options.startDate, timezone),
    endDate: instant(draft, 'endDate', options.endDate, timezone),
    catchup: options.catchup ?? DAG_DEFAULTS.catchup,
    maxActiveRuns: options.maxActiveRuns ?? DAG_DEFAULTS.maxActiveRuns,
    maxActiveTasks: options.maxActiveTasks ?? DAG_DEFAULTS.maxActiveTasks,
    dagrunTimeoutMs: dagrunTimeout(draft, options.dagrunTimeout),
    deadline: deadlineSpec(options.deadline, (message) =>
      draft.report({ field: 'deadline', message }),
    ),
    notify: notifySpec(options.notify),
    params: paramsSchema(draft, options.params),
    pausedOnCreation: options.pausedOnCreation ?? null,
    tasks,
    groups: [...draft.groups.values()].map(({ groupId, parent, tooltip }) => ({
      groupId,
      parent,
      tooltip,
    })),
    doc: options.doc ?? null,
  };
}

/** `schedule` and `datasetSchedule` of the spec from the `schedule` option. */
function schedule(
  draft: DagDraft,
  value: DagOptions['schedule'],
): Pick<DagSpec, 'schedule' | 'datasetSchedule'> {
  if (value === undefined || value === null) return { schedule: null, datasetSchedule: [] };
  if (typeof value === 'string') return { schedule: value, datasetSchedule: [] };
  if (typeof value === 'object' && Array.isArray(value.datasets)) {
    return { schedule: null, datasetSchedule: [...value.datasets] };
  }
  draft.report({
    field: 'schedule',
    message: 'must be a cron expression, a preset, { datasets: [...] } or null',
  });
  return { schedule: null, datasetSchedule: [] };
}

function instant(
  draft: DagDraft,
  field: 'startDate' | 'endDate',
  value: string | Date | null | undefined,
  timezone: string,
): string | null {
  if (value === undefined || value === null) return null;
  try {
    return toUtcInstant(value, timezone);
  } catch (error) {
    draft.report({ field, message: error instanceof Error ? error.message : String(error) });
    return null;
  }
}

function dagrunTimeout(draft: DagDraft, value: DagOptions['dagrunTimeout']): number | null {
  if (value === undefined || value === null) return null;
  try {
    return parseDuration(value);
  } catch (error) {
    draft.report({
      field: 'dagrunTimeout',
      message: error instanceof Error ? error.message : String(error),
    });
    return null;
  }
}

function paramsSchema(draft: DagDraft, value: JsonSchema | undefined): JsonSchema {
  if (value === undefined) return { type: 'object', properties: {} };
  const json = plainJson(value, 'params', (field, message) => draft.report({ field, message }));
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    draft.report({ field: 'params', message: 'must be a JSON Schema object' });
    return { type: 'object', properties: {} };
  }
  return json;
}

/** Direct upstream task ids of every task, from the declared edges (declaration order). */
function resolveEdges(draft: DagDraft): Map<string, string[]> {
  const endpoints = draft.edges.map((edge) => ({
    edge,
    from: endpoint(draft, edge.from, edge.site),
    to: endpoint(draft, edge.to, edge.site),
  }));
  const roots = new Map<string, string[]>();
  const leaves = new Map<string, string[]>();

  const tasksIn = (groupId: string): string[] =>
    [...draft.tasks.values()]
      .filter((t) => t.groupId !== null && within(t.groupId, groupId))
      .map((t) => t.taskId);

  /** Task-level edges `[from, to]` of an edge (an unknown id stays as given). */
  const expand = (from: Endpoint, to: Endpoint): [string, string][] => {
    const sources = from.kind === 'group' ? groupEdge(from.id, leaves, 'leaves') : [from.id];
    const targets = to.kind === 'group' ? groupEdge(to.id, roots, 'roots') : [to.id];
    return sources.flatMap((s) => targets.map((t): [string, string] => [s, t]));
  };

  /** Roots or leaves of a group, from the edges strictly inside it. */
  const groupEdge = (
    groupId: string,
    memo: Map<string, string[]>,
    which: 'roots' | 'leaves',
  ): string[] => {
    const known = memo.get(groupId);
    if (known !== undefined) return known;
    const members = tasksIn(groupId);
    const inner = new Set<string>();
    for (const { from, to } of endpoints) {
      if (from === undefined || to === undefined) continue;
      if (!strictlyInside(draft, from, groupId) || !strictlyInside(draft, to, groupId)) continue;
      if (contains(draft, from, to) || contains(draft, to, from)) continue;
      for (const [s, t] of expand(from, to)) inner.add(which === 'roots' ? t : s);
    }
    const result = members.filter((id) => !inner.has(id));
    memo.set(groupId, result);
    return result;
  };

  const upstream = new Map<string, Set<string>>();
  for (const { edge, from, to } of endpoints) {
    if (from === undefined || to === undefined) continue;
    if (to.kind === 'unknown') continue;
    if (contains(draft, from, to) || contains(draft, to, from)) {
      draft.report(
        {
          taskId: to.kind === 'task' ? to.id : undefined,
          message: `${describe(to)} cannot depend on ${describe(from)}: one contains the other`,
          hint: 'make tasks inside a group depend on each other, or on tasks outside it',
        },
        edge.site,
      );
      continue;
    }
    for (const [s, t] of expand(from, to)) {
      let set = upstream.get(t);
      if (set === undefined) {
        set = new Set();
        upstream.set(t, set);
      }
      set.add(s);
    }
  }
  return new Map([...upstream].map(([id, set]) => [id, [...set]]));
}

function describe(end: Endpoint): string {
  return end.kind === 'group' ? `group '${end.id}'` : `task '${end.id}'`;
}

/** Whether group id `inner` is `outer` or nested in it. */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer}.`);
}

/** The group a node sits in (a task's group, a group's parent), or null at the top. */
function parentGroup(draft: DagDraft, end: Endpoint): string | null {
  if (end.kind === 'task') return draft.tasks.get(end.id)?.groupId ?? null;
  if (end.kind === 'group') return draft.groups.get(end.id)?.parent ?? null;
  return null;
}

/** Whether node `end` is inside group `groupId` (and not the group itself). */
function strictlyInside(draft: DagDraft, end: Endpoint, groupId: string): boolean {
  const parent = parentGroup(draft, end);
  return parent !== null && within(parent, groupId);
}

/** Whether `outer` is a group containing `inner` (or the same node as it). */
function contains(draft: DagDraft, outer: Endpoint, inner: Endpoint): boolean {
  if (outer.kind === inner.kind && outer.id === inner.id) return true;
  return outer.kind === 'group' && strictlyInside(draft, inner, outer.id);
}

/** Resolves one end of an edge; reports nodes of another DAG and values that are no node. */
function endpoint(draft: DagDraft, node: Upstream, site: CallSite): Endpoint | undefined {
  if (typeof node === 'string') {
    if (draft.tasks.has(node)) return { kind: 'task', id: node };
    if (draft.groups.has(node)) return { kind: 'group', id: node };
    return { kind: 'unknown', id: node };
  }
  if (node instanceof DraftNode && node.draft === draft) {
    if (node instanceof TaskRefImpl) return { kind: 'task', id: node.taskId };
    if (node instanceof TaskGroupImpl) return { kind: 'group', id: node.groupId };
  }
  if (node instanceof DraftNode) {
    const id = node instanceof TaskRefImpl ? node.taskId : (node as TaskGroupImpl).groupId;
    draft.report(
      {
        message: `a dependency names '${id}' of dag '${node.draft.dagId}', which is not a task or group of this DAG`,
        hint: 'dependencies must stay within one DAG; use a dataset or a trigger_dag task across DAGs',
      },
      site,
    );
    return undefined;
  }
  draft.report(
    {
      message: `a dependency is ${describeValue(node)}, not a task, a group or a task id`,
      hint: 'pass what d.task(), d.shell(), d.operator() or d.group() returned',
    },
    site,
  );
  return undefined;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'plain'} object`;
  return `a ${typeof value}`;
}
