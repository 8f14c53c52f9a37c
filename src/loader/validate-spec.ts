/**
 * The DagSpec validator: every rule a DAG must satisfy before it is scheduled, whatever
 * it was written in (TypeScript or YAML). It reports all problems at once, each naming
 * the DAG, task and field, with a hint where there is an obvious fix.
 */
import { type Clock, systemClock } from '../core/clock.ts';
import { didYouMean } from '../core/closest-match.ts';
import { connectionNameProblem } from '../core/connection-name.ts';
import type { DagSpec, TaskSpec } from '../core/dag-spec.ts';
import { datasetNameProblem, parseDatasetRef, splitInlet } from '../core/dataset-ref.ts';
import type { SpecIssue } from '../core/errors.ts';
import { MAX_MAP_ITEMS } from '../core/mapping.ts';
import { checkParamsSchema } from '../core/params.ts';
import { RESULT_PATH } from '../core/result-path.ts';
import { TRIGGER_RULES } from '../core/trigger-rules.ts';
import { parseOperatorConfig } from '../operators/registry.ts';
import { validateTimeZone } from '../schedule/cron-ticks.ts';
import { validateSchedule } from '../schedule/timetable.ts';
import { checkTaskTemplates } from './check-templates.ts';
import { findCycles } from './dag-graph.ts';

/** Longest DAG, task or group id (as Airflow). */
export const MAX_ID_LENGTH = 250;

/** DAG ids: letters, digits, `_` and `-`, not starting with `-`. */
const DAG_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
/** One segment of a task or group id. */
const ID_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

const DAG_ID_RULE = `letters, digits, '_' and '-', not starting with '-', at most ${MAX_ID_LENGTH} characters`;
const TASK_ID_RULE =
  `letters, digits, '_' and '-', not starting with '-', at most ${MAX_ID_LENGTH} characters; ` +
  `'.' only joins a group id and the id inside it`;

/** Options of `validateDagSpec`. */
export interface ValidateSpecOptions {
  /** Clock for the suggested start date in hints. Default: the system clock. */
  clock?: Clock;
}

/** Collects issues with the file and DAG id filled in. */
class IssueList {
  readonly issues: SpecIssue[] = [];

  constructor(private readonly base: Pick<SpecIssue, 'file' | 'dagId'>) {}

  add(issue: Omit<SpecIssue, 'file' | 'dagId'>): void {
    this.issues.push({ ...this.base, ...issue });
  }

  task(task: Pick<TaskSpec, 'taskId'>, field: string, message: string, hint?: string): void {
    this.add({ taskId: task.taskId, field: `tasks.${task.taskId}.${field}`, message, hint });
  }
}

/**
 * Every problem of `spec`, or an empty list when it can be scheduled. `fileloc` is set as
 * the `file` of each issue. Checks ids, duplicate ids, unknown upstream ids (with the
 * closest id as a hint), cycles (with the path that closes them), schedule, time zone
 * and dates, trigger rules, retry/pool/priority settings, operator configs, the run-time
 * templates in them (`check-templates.ts`) and the params schema.
 */
export function validateDagSpec(
  spec: DagSpec,
  fileloc?: string,
  options: ValidateSpecOptions = {},
): SpecIssue[] {
  const dagId = typeof spec.dagId === 'string' ? spec.dagId : String(spec.dagId);
  const list = new IssueList({ ...(fileloc === undefined ? {} : { file: fileloc }), dagId });
  checkDagFields(spec, list, options.clock ?? systemClock);
  const groupIds = checkGroups(spec, list);
  checkTasks(spec, groupIds, list);
  checkDependencies(spec, list);
  return list.issues;
}

function isInteger(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

function isDuration(value: unknown, min: number, nullable: boolean): boolean {
  if (value === null) return nullable;
  return typeof value === 'number' && Number.isFinite(value) && value >= min;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function checkDagFields(spec: DagSpec, list: IssueList, clock: Clock): void {
  if (typeof spec.dagId !== 'string' || !DAG_ID.test(spec.dagId)) {
    list.add({
      field: 'dagId',
      message: `dag id '${String(spec.dagId)}' is not valid`,
      hint: `use ${DAG_ID_RULE}`,
    });
  } else if (spec.dagId.length > MAX_ID_LENGTH) {
    list.add({
      field: 'dagId',
      message: `dag id is ${spec.dagId.length} characters long`,
      hint: `use ${DAG_ID_RULE}`,
    });
  }
  if (!isNonEmptyString(spec.owner))
    list.add({ field: 'owner', message: 'must be a non-empty string' });
  if (!Array.isArray(spec.tags) || !spec.tags.every((tag) => typeof tag === 'string')) {
    list.add({ field: 'tags', message: 'must be a list of strings' });
  }

  let timezoneOk = true;
  try {
    validateTimeZone(spec.timezone);
  } catch (error) {
    timezoneOk = false;
    list.add({ field: 'timezone', message: messageOf(error) });
  }
  if (spec.schedule !== null) {
    if (typeof spec.schedule !== 'string') {
      list.add({
        field: 'schedule',
        message: 'must be a cron expression, a preset such as @daily, or null',
      });
    } else if (timezoneOk) {
      try {
        validateSchedule(spec.schedule, spec.timezone);
      } catch (error) {
        list.add({ field: 'schedule', message: messageOf(error) });
      }
    }
  }

  checkDatasetSchedule(spec, list);
  const start = checkDate(spec.startDate, 'startDate', list);
  const end = checkDate(spec.endDate, 'endDate', list);
  if (spec.schedule !== null && spec.startDate === null) {
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    list.add({
      field: 'startDate',
      message: 'a DAG with a schedule needs a start date: no data interval starts before it',
      hint: `add startDate: '${today}' (read in the DAG's time zone), or an earlier date to backfill from`,
    });
  }
  if (start !== undefined && end !== undefined && end < start) {
    list.add({
      field: 'endDate',
      message: `endDate ${spec.endDate} is before startDate ${spec.startDate}`,
      hint: 'swap them, or remove endDate',
    });
  }

  if (!isInteger(spec.maxActiveRuns, 1)) {
    list.add({
      field: 'maxActiveRuns',
      message: `must be an integer >= 1, got ${String(spec.maxActiveRuns)}`,
    });
  }
  if (!isInteger(spec.maxActiveTasks, 1)) {
    list.add({
      field: 'maxActiveTasks',
      message: `must be an integer >= 1, got ${String(spec.maxActiveTasks)}`,
    });
  }
  if (!isDuration(spec.dagrunTimeoutMs, 1, true)) {
    list.add({
      field: 'dagrunTimeout',
      message: `must be a positive duration or null, got ${String(spec.dagrunTimeoutMs)}`,
    });
  }
  checkAlerting(spec, (field, message) => list.add({ field, message }));
  if (typeof spec.catchup !== 'boolean')
    list.add({ field: 'catchup', message: 'must be true or false' });

  for (const problem of checkParamsSchema(spec.params))
    list.add({ field: 'params', message: problem });
}

function checkDatasetSchedule(spec: DagSpec, list: IssueList): void {
  if (!Array.isArray(spec.datasetSchedule)) {
    list.add({ field: 'schedule.datasets', message: 'must be a list of dataset names' });
    return;
  }
  if (spec.datasetSchedule.length > 0 && spec.schedule !== null) {
    list.add({
      field: 'schedule',
      message: 'a DAG is scheduled either by cron or by datasets, not both',
      hint: 'keep one; trigger the other way with a trigger or a manual run',
    });
  }
  for (const name of spec.datasetSchedule) {
    const problem = datasetNameProblem(name);
    if (problem !== null) list.add({ field: 'schedule.datasets', message: problem });
  }
}

/** Checks an ISO instant; returns its time in ms when valid. */
function checkDate(value: string | null, field: string, list: IssueList): number | undefined {
  if (value === null) return undefined;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    list.add({
      field,
      message: `'${String(value)}' is not an ISO date`,
      hint: "use e.g. '2026-01-01T00:00:00Z'",
    });
    return undefined;
  }
  return ms;
}

/** Checks groups; returns the valid group ids. */
function checkGroups(spec: DagSpec, list: IssueList): Set<string> {
  const ids = new Set<string>();
  const declared = new Set(spec.groups.map((group) => group.groupId));
  for (const group of spec.groups) {
    const field = `groups.${group.groupId}`;
    if (ids.has(group.groupId)) {
      list.add({
        field,
        message: `group id '${group.groupId}' is used twice`,
        hint: 'give every group a unique id',
      });
      continue;
    }
    const local =
      group.parent === null ? group.groupId : group.groupId.slice(group.parent.length + 1);
    const validNesting = group.parent === null || group.groupId.startsWith(`${group.parent}.`);
    if (!validNesting || !ID_SEGMENT.test(local) || group.groupId.length > MAX_ID_LENGTH) {
      list.add({
        field,
        message: `group id '${group.groupId}' is not valid${group.parent === null ? '' : ` inside group '${group.parent}'`}`,
        hint: `use ${TASK_ID_RULE}`,
      });
      continue;
    }
    if (group.parent !== null && !declared.has(group.parent)) {
      list.add({
        field: `${field}.parent`,
        message: `parent group '${group.parent}' does not exist`,
      });
      continue;
    }
    ids.add(group.groupId);
  }
  return ids;
}

function checkTasks(spec: DagSpec, groupIds: ReadonlySet<string>, list: IssueList): void {
  const seen = new Set<string>();
  for (const task of spec.tasks) {
    if (seen.has(task.taskId)) {
      list.add({
        taskId: task.taskId,
        field: `tasks.${task.taskId}`,
        message: `task id '${task.taskId}' is used by more than one task`,
        hint: 'give every task a unique id',
      });
      continue;
    }
    seen.add(task.taskId);
    checkTaskId(task, groupIds, list);
    checkTaskSettings(task, list);
    if (task.config !== null && typeof task.config === 'object' && Array.isArray(task.upstream)) {
      for (const issue of checkTaskTemplates(task)) list.add(issue);
    }
  }
}

function checkTaskId(task: TaskSpec, groupIds: ReadonlySet<string>, list: IssueList): void {
  const id = task.taskId;
  if (typeof id !== 'string' || id.length > MAX_ID_LENGTH) {
    list.task(task, 'taskId', `task id '${String(id)}' is not valid`, `use ${TASK_ID_RULE}`);
    return;
  }
  if (groupIds.has(id)) {
    list.task(task, 'taskId', `task id '${id}' is also a group id`, 'rename the task or the group');
  }
  const local = task.group === null ? id : id.slice(task.group.length + 1);
  if (task.group !== null && !id.startsWith(`${task.group}.`)) {
    list.task(
      task,
      'group',
      `task '${id}' is in group '${task.group}' but its id does not start with '${task.group}.'`,
    );
  } else if (!ID_SEGMENT.test(local)) {
    const dotted = local.includes('.') && local.split('.').every((part) => ID_SEGMENT.test(part));
    list.task(
      task,
      'taskId',
      `task id '${id}' is not valid`,
      dotted
        ? `'.' separates a group id from the id inside it: declare '${local.split('.').pop()}' inside a group instead`
        : `use ${TASK_ID_RULE}`,
    );
  }
  if (task.group !== null && !groupIds.has(task.group)) {
    list.task(task, 'group', `group '${task.group}' does not exist`);
  }
}

function checkTaskSettings(task: TaskSpec, list: IssueList): void {
  if (!(TRIGGER_RULES as readonly string[]).includes(task.triggerRule)) {
    list.task(
      task,
      'triggerRule',
      `unknown trigger rule '${String(task.triggerRule)}'`,
      didYouMean(String(task.triggerRule), TRIGGER_RULES, `use one of ${TRIGGER_RULES.join(', ')}`),
    );
  }
  if (!isInteger(task.retries, 0)) {
    list.task(task, 'retries', `must be an integer >= 0, got ${String(task.retries)}`);
  }
  if (!isDuration(task.retryDelayMs, 0, false)) {
    list.task(task, 'retryDelay', `must be a duration >= 0, got ${String(task.retryDelayMs)}`);
  }
  if (!isDuration(task.maxRetryDelayMs, 0, true)) {
    list.task(
      task,
      'maxRetryDelay',
      `must be a duration >= 0 or null, got ${String(task.maxRetryDelayMs)}`,
    );
  }
  if (!isDuration(task.executionTimeoutMs, 1, true)) {
    list.task(
      task,
      'executionTimeout',
      `must be a positive duration or null, got ${String(task.executionTimeoutMs)}`,
    );
  }
  if (typeof task.retryExponentialBackoff !== 'boolean') {
    list.task(task, 'retryExponentialBackoff', 'must be true or false');
  }
  if (!isNonEmptyString(task.pool)) list.task(task, 'pool', 'must be a pool name');
  if (!isInteger(task.poolSlots, 1)) {
    list.task(
      task,
      'poolSlots',
      `must be an integer >= 1, got ${String(task.poolSlots)}`,
      'a task takes at least one slot of its pool',
    );
  }
  if (typeof task.priorityWeight !== 'number' || !Number.isFinite(task.priorityWeight)) {
    list.task(task, 'priorityWeight', `must be a number, got ${String(task.priorityWeight)}`);
  }
  if (!isNonEmptyString(task.queue)) list.task(task, 'queue', 'must be a queue name');
  checkTaskDatasets(task, list);
  checkTaskConnections(task, list);
  checkAlerting(task, (field, message) => list.task(task, field, message));
  if (!isNonEmptyString(task.operator)) {
    list.task(task, 'operator', 'must name an operator');
    return;
  }
  const parsed = parseOperatorConfig(task.operator, task.config);
  if (parsed.ok) return;
  for (const issue of parsed.issues) {
    const field = issue.field === undefined ? 'operator' : `config.${issue.field}`;
    list.task(task, field, issue.message, issue.hint);
  }
}

const NOTIFY_EVENTS = ['onSuccess', 'onFailure', 'onRetry', 'onDeadlineMiss'] as const;

/** Checks `notify` and `deadline` of a DAG or a task. */
function checkAlerting(
  owner: Pick<DagSpec, 'notify' | 'deadline'>,
  problem: (field: string, message: string) => void,
): void {
  const notify = owner.notify;
  if (notify === null || typeof notify !== 'object') problem('notify', 'must be an object');
  else {
    for (const event of NOTIFY_EVENTS) {
      const targets = notify[event];
      if (!Array.isArray(targets) || !targets.every(isNonEmptyString)) {
        problem(`notify.${event}`, 'must be a list of notifier connection names');
      }
    }
  }
  const deadline = owner.deadline;
  if (deadline === null) return;
  if (!isDuration(deadline?.afterMs, 1, false)) {
    problem('deadline.after', `must be a positive duration, got ${String(deadline?.afterMs)}`);
  }
  if (deadline?.from !== 'start' && deadline?.from !== 'logical_date') {
    problem('deadline.from', `must be 'start' or 'logical_date', got '${String(deadline?.from)}'`);
  }
}

function checkTaskDatasets(task: TaskSpec, list: IssueList): void {
  if (!Array.isArray(task.inlets))
    list.task(task, 'inlets', 'must be a list of dataset references');
  else {
    for (const inlet of task.inlets) {
      try {
        parseDatasetRef(splitInlet(String(inlet)).ref);
      } catch (error) {
        list.task(task, 'inlets', messageOf(error));
      }
    }
  }
  if (!Array.isArray(task.outlets)) list.task(task, 'outlets', 'must be a list of dataset names');
  else {
    for (const outlet of task.outlets) {
      const problem = datasetNameProblem(outlet);
      if (problem !== null) list.task(task, 'outlets', problem, 'outlets name datasets, without @');
    }
  }
}

function checkTaskConnections(task: TaskSpec, list: IssueList): void {
  // Specs stored before `connections` existed lack it.
  if (task.connections === undefined) return;
  if (!Array.isArray(task.connections)) {
    list.task(task, 'connections', 'must be a list of connection names');
    return;
  }
  const seen = new Set<string>();
  task.connections.forEach((name, i) => {
    const problem = connectionNameProblem(name);
    if (problem !== null) list.task(task, `connections.${i}`, problem);
    else if (seen.has(name)) {
      list.task(task, `connections.${i}`, `connection '${name}' is listed twice`);
    }
    seen.add(name);
  });
}

/** Checks `mapOver` against the task's upstream (after the upstream ids are known). */
function checkMapOver(task: TaskSpec, list: IssueList): void {
  const mapOver = task.mapOver;
  if (mapOver === null) return;
  if (typeof mapOver !== 'object' || Array.isArray(mapOver)) {
    list.task(task, 'mapOver', 'must be { upstream, path?, maxItems? } or null');
    return;
  }
  if (!Array.isArray(task.upstream) || !task.upstream.includes(mapOver.upstream)) {
    list.task(
      task,
      'mapOver.upstream',
      `'${String(mapOver.upstream)}' is not an upstream task of '${task.taskId}'`,
      didYouMean(String(mapOver.upstream), Array.isArray(task.upstream) ? task.upstream : []) ??
        'map over the result of a task this task depends on directly',
    );
  }
  checkResultPath(task, 'mapOver.path', mapOver.path, list);
  if (!isInteger(mapOver.maxItems, 1) || mapOver.maxItems > MAX_MAP_ITEMS) {
    list.task(
      task,
      'mapOver.maxItems',
      `must be an integer from 1 to ${MAX_MAP_ITEMS}, got ${String(mapOver.maxItems)}`,
    );
  }
}

/** Checks a path into a task result (`mapOver.path`, `branch.path`). */
function checkResultPath(task: TaskSpec, field: string, path: unknown, list: IssueList): void {
  if (path === null || (typeof path === 'string' && RESULT_PATH.test(path))) return;
  list.task(
    task,
    field,
    `'${String(path)}' is not a dotted path of keys and list positions`,
    "write e.g. 'rows', 'data.items' or '0.follow'",
  );
}

/**
 * Checks `branch`: a branch task needs direct downstream tasks to choose from, and is
 * not mapped (its instances could choose differently for the same downstream tasks).
 */
function checkBranch(task: TaskSpec, downstream: readonly string[], list: IssueList): void {
  // Specs stored before `branch` existed lack it.
  const branch = task.branch ?? null;
  if (branch === null) return;
  if (typeof branch !== 'object' || Array.isArray(branch)) {
    list.task(task, 'branch', 'must be { path } or null');
    return;
  }
  checkResultPath(task, 'branch.path', branch.path, list);
  if (downstream.length === 0) {
    list.task(
      task,
      'branch',
      `branch task '${task.taskId}' has no downstream tasks to choose from`,
      'make the tasks it chooses between list it in their upstream, or drop branch',
    );
  }
  if (task.mapOver !== null) {
    list.task(
      task,
      'branch',
      `branch task '${task.taskId}' is mapped: a mapped task cannot be a branch`,
      'choose in an unmapped task after the mapped one, which sees their results as a list, or drop branch',
    );
  }
}

function checkDependencies(spec: DagSpec, list: IssueList): void {
  const ids = spec.tasks.map((task) => task.taskId);
  const known = new Set(ids);
  for (const task of spec.tasks) {
    if (!Array.isArray(task.upstream)) {
      list.task(task, 'upstream', 'must be a list of task ids');
      continue;
    }
    for (const upstream of task.upstream) {
      if (known.has(upstream)) continue;
      list.task(
        task,
        'upstream',
        `upstream task '${upstream}' does not exist in dag '${spec.dagId}'`,
        didYouMean(upstream, ids),
      );
    }
    checkMapOver(task, list);
  }
  const downstream = new Map<string, string[]>();
  for (const task of spec.tasks) {
    if (!Array.isArray(task.upstream)) continue;
    for (const u of task.upstream) downstream.set(u, [...(downstream.get(u) ?? []), task.taskId]);
  }
  for (const task of spec.tasks) checkBranch(task, downstream.get(task.taskId) ?? [], list);
  for (const cycle of findCycles(spec.tasks.filter((task) => Array.isArray(task.upstream)))) {
    const first = cycle[0] ?? '';
    list.add({
      taskId: first,
      field: `tasks.${first}.upstream`,
      message: `dependency cycle: ${[...cycle, first].join(' -> ')}`,
      hint: 'a DAG cannot loop back on itself: remove one of these dependencies',
    });
  }
}
