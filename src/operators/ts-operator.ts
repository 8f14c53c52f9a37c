/**
 * The `ts` operator: calls the task's TypeScript function. The worker imports the
 * pipeline at the run's code version (the loader does so once per process; later
 * attempts reuse the module), finds the DAG and the task's function, and calls it with
 * the `TaskContext`, whose `datasets` (reading inlets, writing versions) it builds from
 * the data layer. The function's return value is the task result.
 */
import { Type } from '@sinclair/typebox';
import type { Json } from '../core/dag-spec.ts';
import { NotFoundError } from '../core/errors.ts';
import type { TaskContext, TaskFunction } from '../core/task-context.ts';
import { createTaskDatasets } from '../data/task-datasets.ts';
import type { AttemptRequest } from '../executor/executor.ts';
import { importPipeline } from '../loader/import-pipeline.ts';
import type { Operator } from './operator.ts';

/** Code versions imported by this process (the loader imports each one once). */
const importedVersions = new Set<string>();

/**
 * How many distinct pipeline versions this process has imported. ESM never unloads a
 * module, so a worker is recycled once this grows past its limit.
 */
export function importedPipelineVersions(): number {
  return importedVersions.size;
}

async function findTaskFunction(attempt: AttemptRequest, ctx: TaskContext): Promise<TaskFunction> {
  const { fileloc, codeHash, key } = attempt;
  const pipeline = await importPipeline(fileloc, codeHash);
  importedVersions.add(pipeline.codeHash);
  if (pipeline.codeHash !== codeHash) {
    ctx.log.warn('the pipeline file changed since this run was created; running the current code', {
      fileloc,
      run_code_hash: codeHash,
      current_code_hash: pipeline.codeHash,
    });
  }
  const dag = pipeline.dags.find((d) => d.spec.dagId === key.dagId);
  if (dag === undefined) {
    const known = pipeline.dags.map((d) => `'${d.spec.dagId}'`).join(', ') || 'none';
    throw new NotFoundError(
      `${fileloc}: no DAG '${key.dagId}' in this file (it defines: ${known})`,
    );
  }
  const fn = dag.taskFunction(key.taskId);
  if (fn === undefined) {
    throw new NotFoundError(
      `${fileloc}: DAG '${key.dagId}' has no ts function for task '${key.taskId}'`,
    );
  }
  return fn;
}

export const tsOperator: Operator<Record<string, never>> = {
  name: 'ts',
  description:
    'Calls the TypeScript function defined for the task; its return value is the result.',
  configSchema: Type.Object(
    {},
    {
      additionalProperties: false,
      description:
        'A ts task has no configuration: its function, in the pipeline file, is the task.',
    },
  ),
  async run(_config, ctx) {
    const { attempt, ...rest } = ctx;
    // Building `datasets` opens nothing: DuckDB loads on the task's first dataset call.
    const taskContext: TaskContext = { ...rest, datasets: createTaskDatasets(ctx) };
    const fn = await findTaskFunction(attempt, taskContext);
    const result = await fn(taskContext);
    // `void` does not narrow; whatever came back is checked to be JSON by the task runner.
    return result === undefined ? undefined : (result as Json);
  },
};
