/**
 * Errors that say what happens next and what to fix.
 *
 * Thrown by task code:
 * - `TaskFailure`: fail the attempt; with `{ retry: false }` it fails without retry.
 * - `SkipTask`: end the task as `skipped` (its downstream follows its trigger rules).
 *
 * Raised by Updraft:
 * - `SpecError`: a pipeline definition is wrong; carries where (file, line, DAG, task,
 *   field) and a hint.
 * - `ParamsError`: run parameters fail the DAG's params schema (HTTP 400 / exit 1).
 * - `NotFoundError`: a DAG, run or task that does not exist.
 * - `ConflictError`: the action does not fit the current state (e.g. trigger a DAG
 *   whose run id exists).
 */

export class UpdraftError extends Error {
  /** Stable machine-readable code, e.g. `spec_invalid`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Thrown by task code to fail the attempt; `retry: false` skips the remaining retries. */
export class TaskFailure extends Error {
  readonly retry: boolean;
  constructor(message: string, options?: { retry?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaskFailure';
    this.retry = options?.retry ?? true;
  }
}

/** Thrown by task code to mark the task `skipped`. */
export class SkipTask extends Error {
  constructor(message = 'task skipped') {
    super(message);
    this.name = 'SkipTask';
  }
}

/** Where in a pipeline definition an error was found. Every field is optional. */
export interface SpecLocation {
  file?: string;
  line?: number;
  column?: number;
  dagId?: string;
  taskId?: string;
  /** Path of the field, e.g. `tasks.load.retries` or `schedule`. */
  field?: string;
}

/** One problem found in a pipeline definition. */
export interface SpecIssue extends SpecLocation {
  message: string;
  /** What to do about it, e.g. "did you mean 'extract'?". */
  hint?: string;
}

/** Formats an issue as `file:line:col: dag 'x' task 'y' field 'z': message (hint)`. */
export function formatSpecIssue(issue: SpecIssue): string {
  const where: string[] = [];
  if (issue.file) {
    where.push(
      issue.file +
        (issue.line === undefined ? '' : `:${issue.line}`) +
        (issue.column === undefined ? '' : `:${issue.column}`),
    );
  }
  const what: string[] = [];
  if (issue.dagId) what.push(`dag '${issue.dagId}'`);
  if (issue.taskId) what.push(`task '${issue.taskId}'`);
  if (issue.field) what.push(`field '${issue.field}'`);
  const prefix = [where.join(''), what.join(' ')].filter(Boolean).join(': ');
  return `${prefix ? `${prefix}: ` : ''}${issue.message}${issue.hint ? ` (${issue.hint})` : ''}`;
}

/** A pipeline definition is invalid; `issues` lists every problem found. */
export class SpecError extends UpdraftError {
  readonly issues: SpecIssue[];
  constructor(issues: SpecIssue[], options?: { cause?: unknown }) {
    super('spec_invalid', issues.map(formatSpecIssue).join('\n'), options);
    this.issues = issues;
  }
}

/** Run parameters fail the DAG's params schema. `field` is the JSON path at fault. */
export class ParamsError extends UpdraftError {
  readonly dagId: string;
  readonly field: string;
  constructor(dagId: string, field: string, message: string) {
    super('params_invalid', `dag '${dagId}': param '${field}': ${message}`);
    this.dagId = dagId;
    this.field = field;
  }
}

export class NotFoundError extends UpdraftError {
  constructor(message: string) {
    super('not_found', message);
  }
}

export class ConflictError extends UpdraftError {
  constructor(message: string) {
    super('conflict', message);
  }
}
