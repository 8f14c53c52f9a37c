/**
 * The `duckdb` operator: a DuckDB SQL transform over datasets. Every inlet is a view
 * named after its dataset (or as `inputs` maps view names to references); `setup`
 * statements run first; `query`'s result becomes a new version of `output`, or, without
 * `output`, at most `maxRows` rows are the task result. Each model of a `sql_models`
 * task runs as a `duckdb` task (`src/data/sql-models.ts`).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../../core/dag-spec.ts';
import { TaskFailure } from '../../core/errors.ts';
import type { Operator } from '../../operators/operator.ts';
import { withScratchDuckDb } from '../scratch.ts';
import { stageQuery } from '../stage-version.ts';
import { createInputViews } from '../task-inputs.ts';

export const duckdbConfigSchema = Type.Object(
  {
    query: Type.String({
      minLength: 1,
      description:
        'SELECT whose result is the output. Inlets are views named after their datasets.',
    }),
    setup: Type.Optional(
      Type.String({
        description: 'Statements run before the query (temporary tables, macros, settings).',
      }),
    ),
    inputs: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
        description:
          'View name → dataset reference (one of the inlets), instead of one view per inlet named after its dataset.',
      }),
    ),
    output: Type.Optional(
      Type.String({ minLength: 1, description: 'Dataset that gets the result as a new version.' }),
    ),
    maxRows: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 100,
      description:
        'Without output: most rows returned as the task result (default 100); more fails the task.',
    }),
    memoryLimit: Type.String({
      default: '1GB',
      description: "DuckDB memory limit (default '1GB'); larger data spills to disk.",
    }),
    threads: Type.Optional(
      Type.Integer({ minimum: 1, description: 'DuckDB threads (default: one per core).' }),
    ),
    origin: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Where the query comes from, named in error messages (sql_models sets it to the model and its file).',
      }),
    ),
  },
  { additionalProperties: false, description: 'Runs a DuckDB SQL transform over datasets.' },
);

export type DuckdbConfig = Static<typeof duckdbConfigSchema>;

export const duckdbOperator: Operator<DuckdbConfig> = {
  name: 'duckdb',
  description: 'A DuckDB SQL transform over datasets (inlets), producing a dataset version.',
  configSchema: duckdbConfigSchema,
  async run(config, ctx): Promise<Json> {
    const engine = {
      memoryLimit: config.memoryLimit,
      ...(config.threads === undefined ? {} : { threads: config.threads }),
    };
    return withScratchDuckDb(ctx, engine, async (session) => {
      const reads = await createInputViews(ctx, session, config.inputs);
      const what = `task '${ctx.taskId}'${config.origin === undefined ? '' : ` (${config.origin})`}`;
      if (config.setup !== undefined && config.setup.trim() !== '') {
        await session.run(config.setup, `${what} (setup)`);
      }
      if (config.output !== undefined) {
        return await stageQuery(ctx, session, config.output, config.query, {
          reads,
          what: `${what} writing dataset '${config.output}'`,
        });
      }
      const rows = await session.rows(
        `select * from (${config.query}) limit ${config.maxRows + 1}`,
        what,
      );
      if (rows.length > config.maxRows) {
        throw new TaskFailure(
          `${what}: the query returned more than maxRows (${config.maxRows}) rows: set 'output' to write them to a dataset`,
          { retry: false },
        );
      }
      return rows as Json;
    });
  },
};
