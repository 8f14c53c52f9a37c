/**
 * The `sql_models` operator: compiles a folder of SQL models (`src/data/sql-models.ts`)
 * and runs them on DuckDB in dependency order, each model as a table; models whose
 * dependencies are done run in parallel, on their own connections, at most
 * `concurrency` at a time. `source('y')` reads inlet `y` (matched by reference or by
 * dataset name). The models listed in `publish` (default: every model) become new
 * versions of datasets named `<datasetPrefix><model>`.
 *
 * A failing model fails the task with the model's name, its file and DuckDB's message;
 * models that were not reached are reported as such, and nothing is published.
 */
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../../core/dag-spec.ts';
import { SpecError, TaskFailure } from '../../core/errors.ts';
import type { Operator, OperatorContext } from '../../operators/operator.ts';
import { type DuckDbSession, readParquetSql } from '../duckdb-session.ts';
import { withScratchDuckDb } from '../scratch.ts';
import { compileSqlModels, modelTable, type SqlModelPlan, sourceView } from '../sql-models.ts';
import { stageQuery } from '../stage-version.ts';
import { inputFolder, type PinnedInput, pinnedInputs } from '../task-inputs.ts';

export const sqlModelsConfigSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: "Folder of .sql models; relative to the pipeline file's folder.",
    }),
    publish: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Models written as datasets (default: every model).',
      }),
    ),
    datasetPrefix: Type.String({
      default: '',
      description: "Prefix of the dataset names of published models (default '').",
    }),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description: 'Models run at once (default 4).',
    }),
    memoryLimit: Type.String({
      default: '1GB',
      description: "DuckDB memory limit (default '1GB'); larger data spills to disk.",
    }),
  },
  { additionalProperties: false, description: 'Runs a folder of dbt-style SQL models on DuckDB.' },
);

export type SqlModelsConfig = Static<typeof sqlModelsConfigSchema>;

interface ModelRun {
  model: string;
  level: number;
  startedAt: number;
  ms: number;
}

export const sqlModelsOperator: Operator<SqlModelsConfig> = {
  name: 'sql_models',
  description:
    'Compiles a folder of SQL models (ref/source) and runs them on DuckDB in dependency order, in parallel where possible.',
  configSchema: sqlModelsConfigSchema,
  async run(config, ctx): Promise<Json> {
    const folder = path.resolve(path.dirname(ctx.attempt.fileloc), config.path);
    let plan: SqlModelPlan;
    try {
      plan = await compileSqlModels(folder);
    } catch (error) {
      if (error instanceof SpecError) {
        throw new TaskFailure(
          `task '${ctx.taskId}': the SQL models do not compile:\n${error.message}`,
          { retry: false, cause: error },
        );
      }
      throw error;
    }
    const publish = config.publish ?? plan.models.map((m) => m.name);
    const unknown = publish.filter((name) => !plan.models.some((m) => m.name === name));
    if (unknown.length > 0) {
      throw new TaskFailure(
        `task '${ctx.taskId}': publish names unknown model(s) ${unknown.join(', ')}`,
        { retry: false },
      );
    }
    const sources = resolveSources(ctx, plan);
    return withScratchDuckDb(ctx, { memoryLimit: config.memoryLimit }, async (session) => {
      for (const [name, input] of sources) {
        await session.run(
          `create view ${sourceView(name)} as select * from ${readParquetSql(inputFolder(ctx, input))}`,
          `task '${ctx.taskId}' source '${name}'`,
        );
      }
      const { runs, maxConcurrent } = await runModels(ctx, session, plan, config.concurrency);
      const reads = [...sources.values()].map((s) => ({
        dataset: s.dataset,
        version: s.version,
      }));
      const published = [];
      for (const name of publish) {
        published.push(
          await stageQuery(
            ctx,
            session,
            `${config.datasetPrefix}${name}`,
            `select * from ${modelTable(name)}`,
            {
              reads,
              what: `task '${ctx.taskId}' model '${name}'`,
            },
          ),
        );
      }
      return { levels: plan.levels, models: runs, maxConcurrent, published } as unknown as Json;
    });
  },
};

/** The pinned inlet each `source('name')` reads: an inlet written `name`, else one of dataset `name`. */
function resolveSources(ctx: OperatorContext, plan: SqlModelPlan): Map<string, PinnedInput> {
  const pinned = pinnedInputs(ctx);
  const found = new Map<string, PinnedInput>();
  for (const name of plan.sources) {
    const input = pinned.get(name) ?? [...pinned.values()].find((p) => p.dataset === name);
    if (input === undefined) {
      const users = plan.models.filter((m) => m.sources.includes(name)).map((m) => m.name);
      throw new TaskFailure(
        `task '${ctx.taskId}': source('${name}') (in model ${users.join(', ')}) is not among the task's inlets (${[...pinned.keys()].join(', ') || 'none'}): add '${name}' (or '${name}@<alias>') to inlets`,
        { retry: false },
      );
    }
    found.set(name, input);
  }
  return found;
}

/** Runs every model, each as soon as its refs are done, at most `concurrency` at once. */
async function runModels(
  ctx: OperatorContext,
  session: DuckDbSession,
  plan: SqlModelPlan,
  concurrency: number,
): Promise<{ runs: ModelRun[]; maxConcurrent: number }> {
  const connections = await Promise.all(
    Array.from({ length: Math.min(concurrency, plan.models.length) }, () => session.connect()),
  );
  const idle = [...connections];
  const done = new Set<string>();
  const started = new Set<string>();
  const runs: ModelRun[] = [];
  const levelOf = new Map(
    plan.levels.flatMap((names, level) => names.map((n) => [n, level] as const)),
  );
  const t0 = Date.now();
  let running = 0;
  let maxConcurrent = 0;
  let failure: unknown;
  await new Promise<void>((finish) => {
    const dispatch = () => {
      if (failure !== undefined) {
        if (running === 0) finish();
        return;
      }
      for (const model of plan.models) {
        if (idle.length === 0) break;
        if (started.has(model.name) || !model.refs.every((r) => done.has(r))) continue;
        const connection = idle.pop();
        if (connection === undefined) break;
        started.add(model.name);
        running++;
        maxConcurrent = Math.max(maxConcurrent, running);
        const startedAt = Date.now();
        ctx.log.info(`model '${model.name}' started`, { model: model.name });
        session
          .run(
            `create table ${modelTable(model.name)} as ${model.compiled}`,
            `task '${ctx.taskId}' model '${model.name}' (${model.file})`,
            connection,
          )
          .then(
            () => {
              const ms = Date.now() - startedAt;
              runs.push({
                model: model.name,
                level: levelOf.get(model.name) ?? 0,
                startedAt: startedAt - t0,
                ms,
              });
              done.add(model.name);
              ctx.log.info(`model '${model.name}' done`, { model: model.name, ms });
            },
            (error: unknown) => {
              failure ??= error;
            },
          )
          .finally(() => {
            running--;
            idle.push(connection);
            if (done.size === plan.models.length) finish();
            else dispatch();
          });
      }
      if (running === 0) finish();
    };
    dispatch();
  });
  if (failure !== undefined) {
    const skipped = plan.models.filter((m) => !started.has(m.name)).map((m) => m.name);
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new TaskFailure(
      `${message}${skipped.length > 0 ? `\nnot run: ${skipped.join(', ')}` : ''}`,
      { cause: failure },
    );
  }
  return { runs: runs.sort((a, b) => a.startedAt - b.startedAt), maxConcurrent };
}
