/**
 * The problems of one authored DAG: those found while building it plus the spec
 * validator's, each pointed at the line that declared the DAG, task or group at fault.
 */
import type { Dag } from '../authoring/types.ts';
import type { SpecIssue } from '../core/errors.ts';
import type { SourceDag } from './pipeline-source.ts';
import { validateDagSpec } from './validate-spec.ts';

/** Validates `dag` (from file `fileloc`) and locates every issue found. */
export function reviewDag(dag: Dag, fileloc: string): SourceDag {
  const issues = [...dag.issues, ...validateDagSpec(dag.spec, fileloc)].map((issue): SpecIssue => {
    if (issue.line !== undefined) return { file: fileloc, ...issue };
    const where = dag.sourceLocation(issue.taskId ?? groupOf(issue.field));
    return {
      ...issue,
      file: where.file ?? issue.file ?? fileloc,
      line: where.line,
      column: where.column,
    };
  });
  return { spec: dag.spec, issues, ...(dag.inputs.length > 0 ? { inputs: [...dag.inputs] } : {}) };
}

/** `groups.<id>...` fields name a group; its id is what follows, up to the last segment. */
function groupOf(field: string | undefined): string | undefined {
  if (field === undefined || !field.startsWith('groups.')) return undefined;
  return field.slice('groups.'.length).replace(/\.parent$/, '');
}
