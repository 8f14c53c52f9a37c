/**
 * Load-time checks of the run-time templates in operator configs (`{{ ds }}`,
 * `{{ upstream.extract.rows }}`), so a typo fails `updraft dags validate` instead of the
 * task at 2 a.m.: the syntax, the variable names, `item` outside a mapped task, and
 * `upstream.<id>` naming a task that is not a direct upstream of this one (only those
 * results reach the task).
 */
import { didYouMean } from '../core/closest-match.ts';
import type { Json, TaskSpec } from '../core/dag-spec.ts';
import type { SpecIssue } from '../core/errors.ts';
import { findTemplateVariables, templateVariables } from '../core/templating.ts';

const EPOCH = new Date(0).toISOString();

/** The variables a template can read, as the task runner defines them. */
const VARIABLES = Object.keys(
  templateVariables(
    { dagId: '', runId: '', taskId: '', mapIndex: -1, tryNumber: 1 },
    {
      runType: 'manual',
      logicalDate: EPOCH,
      dataIntervalStart: EPOCH,
      dataIntervalEnd: EPOCH,
      params: {},
      maxTries: 1,
      upstreamResults: {},
      mapItem: null,
    },
  ),
);

/** `upstream.<id>` and `upstream['<id>']` at the start of a template expression. */
const UPSTREAM_REFERENCE =
  /\{\{\s*upstream(?:\.([A-Za-z0-9_-]+)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\])/g;

/** Problems of the templates in `task`'s config; fields are `tasks.<id>.config.<path>`. */
export function checkTaskTemplates(task: TaskSpec): Omit<SpecIssue, 'file' | 'dagId'>[] {
  const issues: Omit<SpecIssue, 'file' | 'dagId'>[] = [];
  const names =
    task.mapOver === null || task.mapOver === undefined
      ? VARIABLES.filter((n) => n !== 'item')
      : VARIABLES;
  const visit = (value: Json, path: string): void => {
    if (typeof value === 'string') {
      for (const issue of checkText(value, names, task)) {
        issues.push({ taskId: task.taskId, field: `tasks.${task.taskId}.${path}`, ...issue });
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        visit(item, `${path}.${i}`);
      });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, `${path}.${key}`);
    }
  };
  visit(task.config, 'config');
  return issues;
}

function checkText(
  text: string,
  names: readonly string[],
  task: TaskSpec,
): Pick<SpecIssue, 'message' | 'hint'>[] {
  if (!text.includes('{{')) return [];
  let roots: string[];
  try {
    roots = findTemplateVariables(text);
  } catch (error) {
    return [
      {
        message: `bad template: ${error instanceof Error ? error.message : String(error)}`,
        hint: "write {{ name }}, {{ params.x }}, {{ upstream['task'].field }}; {{ '{{' }} for a literal",
      },
    ];
  }
  const issues: Pick<SpecIssue, 'message' | 'hint'>[] = [];
  for (const root of roots) {
    if (names.includes(root)) continue;
    issues.push({
      message:
        root === 'item'
          ? '{{ item }} is only set in a mapped task'
          : `unknown template variable '${root}'`,
      hint:
        root === 'item'
          ? 'add mapOver to the task, or remove {{ item }}'
          : didYouMean(root, names, `available: ${names.join(', ')}`),
    });
  }
  for (const match of text.matchAll(UPSTREAM_REFERENCE)) {
    const id = match[1] ?? match[2] ?? match[3] ?? '';
    if (task.upstream.includes(id)) continue;
    issues.push({
      message: `{{ upstream.${id} }} reads a task that is not a direct upstream of '${task.taskId}'`,
      hint: didYouMean(
        id,
        task.upstream,
        task.upstream.length === 0
          ? `add '${id}' to the task's upstream`
          : `direct upstream: ${task.upstream.join(', ')}; for a task in a group write upstream['group.task']`,
      ),
    });
  }
  return issues;
}
