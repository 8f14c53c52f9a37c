/**
 * The `extract` operator: a PostgreSQL query or table into a new dataset version.
 * `COPY ... TO STDOUT` streams CSV into a named pipe that DuckDB reads at the same time
 * and writes as Parquet under a memory limit, so memory stays bounded whatever the row
 * count.
 * Column types come from PostgreSQL's own description of the query.
 *
 * Incremental mode (`incremental.column`): only rows with `column` above the stored
 * watermark are read; the new watermark (the maximum of `column` in the version) is
 * stored per DAG, task and dataset when the version commits — never before, so a failed
 * attempt re-reads the same rows.
 *
 * The `snapshot` operator shares this path for a connection's query or table, and
 * snapshots a DuckDB query over the task's inlets otherwise.
 */
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { TaskFailure } from '../../core/errors.ts';
import type { Operator, OperatorContext } from '../../operators/operator.ts';
import { sqlIdentifier, sqlString } from '../duckdb-session.ts';
import { createPipe } from '../named-pipe.ts';
import { assertDatasetName } from '../names.ts';
import {
  connectPostgres,
  copyQueryToCsv,
  duckTypeOf,
  type PgField,
  qualifiedName,
  sqlFailure,
} from '../postgres-source.ts';
import { openScratchDuckDb, withScratch, withScratchDuckDb } from '../scratch.ts';
import { type StagedSummary, stageQuery } from '../stage-version.ts';
import { createInputViews, pinnedWatermark } from '../task-inputs.ts';

const sourceFields = {
  connection: Type.String({
    minLength: 1,
    description:
      'Name of a PostgreSQL connection (stored, in the connections file, or UPDRAFT_CONN_<NAME>).',
  }),
  query: Type.Optional(
    Type.String({ minLength: 1, description: 'SELECT to read (give query or table).' }),
  ),
  table: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Table (or view) to read in full, optionally schema-qualified (give query or table).',
    }),
  ),
  dataset: Type.String({ minLength: 1, description: 'Dataset that gets the new version.' }),
  memoryLimit: Type.String({
    default: '512MB',
    description:
      "DuckDB memory limit for the conversion (default '512MB'); larger data spills to disk.",
  }),
};

export const extractConfigSchema = Type.Object(
  {
    ...sourceFields,
    incremental: Type.Optional(
      Type.Object(
        {
          column: Type.String({
            minLength: 1,
            description: 'Column that only grows (an id, an updated_at).',
          }),
          initial: Type.Optional(
            Type.String({
              description: 'Watermark before the first run (default: read every row).',
            }),
          ),
        },
        { additionalProperties: false, description: 'Read only rows above the stored watermark.' },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'Extracts a PostgreSQL query or table into a dataset version, streamed.',
  },
);

export type ExtractConfig = Static<typeof extractConfigSchema>;

/** Streams a PostgreSQL source into a staged version of `config.dataset`. */
export async function extractToDataset(
  ctx: OperatorContext,
  config: Static<typeof extractConfigSchema>,
): Promise<StagedSummary> {
  if ((config.query === undefined) === (config.table === undefined)) {
    throw new TaskFailure(`task '${ctx.taskId}': give exactly one of 'query' and 'table'`, {
      retry: false,
    });
  }
  const pgSession = await connectPostgres(ctx, config.connection);
  try {
    const { client } = pgSession;
    let source = config.query ?? `select * from ${qualifiedName(config.table ?? '')}`;
    const incremental = config.incremental;
    const stored = pinnedWatermark(ctx, config.dataset);
    if (incremental !== undefined) {
      const low = stored?.column === incremental.column ? stored.value : incremental.initial;
      source =
        `select * from (${source}) as updraft_source` +
        (low === undefined
          ? ''
          : ` where ${sqlIdentifier(incremental.column)} > ${client.escapeLiteral(low)}`);
      ctx.log.info('incremental extract', { column: incremental.column, above: low ?? null });
    }
    const described = await pgSession
      .query(`select * from (${source}) as updraft_described limit 0`)
      .catch((error: unknown) => {
        throw sqlFailure(ctx, `SQL error on connection '${config.connection}'`, error);
      });
    const fields = described.fields as PgField[];
    if (incremental !== undefined && !fields.some((f) => f.name === incremental.column)) {
      throw new TaskFailure(
        `task '${ctx.taskId}': incremental column '${incremental.column}' is not among the columns of the source (${fields.map((f) => f.name).join(', ')})`,
        { retry: false },
      );
    }
    assertDatasetName(config.dataset);
    return await withScratch(ctx, async (dir) => {
      // COPY writes into a named pipe that DuckDB reads: both run at once, and the rows
      // never land on disk as CSV. Back-pressure travels through the pipe to the socket.
      const pipe = await createPipe(path.join(dir, 'extract.csv'));
      const started = Date.now();
      const columns = fields
        .map((f) => `${sqlString(f.name)}: ${sqlString(duckTypeOf(f))}`)
        .join(', ');
      const session = await openScratchDuckDb(ctx, dir, { memoryLimit: config.memoryLimit });
      const copied = copyQueryToCsv(pgSession, source, pipe.path).catch((error: unknown) => {
        throw sqlFailure(ctx, `extracting from connection '${config.connection}'`, error);
      });
      try {
        const staged = stageQuery(
          ctx,
          session,
          config.dataset,
          `select * from read_csv(${sqlString(pipe.path)}, columns = {${columns}}, header = false, ` +
            `auto_detect = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false)`,
          incremental === undefined ? {} : { watermarkColumn: incremental.column },
        );
        // Whichever side fails first stops the other: a failed COPY ends the pipe early
        // (DuckDB would see a short file), a failed DuckDB leaves COPY without a reader.
        const [, summary] = await Promise.all([
          copied.catch(async (error: unknown) => {
            session.interrupt();
            throw error;
          }),
          staged.catch(async (error: unknown) => {
            await pgSession.close();
            await pipe.release();
            throw error;
          }),
        ]);
        ctx.log.info('extract done', { rows: summary.rows, ms: Date.now() - started });
        return summary;
      } finally {
        session.close();
      }
    });
  } finally {
    await pgSession.close();
  }
}

export const extractOperator: Operator<ExtractConfig> = {
  name: 'extract',
  description:
    'Streams a PostgreSQL query or table into a new dataset version (optionally incremental).',
  configSchema: extractConfigSchema,
  async run(config, ctx) {
    return extractToDataset(ctx, config);
  },
};

export const snapshotConfigSchema = Type.Object(
  {
    connection: Type.Optional(sourceFields.connection),
    query: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Query to snapshot: PostgreSQL SQL with a connection, else DuckDB SQL over the inlets (each a view named after its dataset).',
      }),
    ),
    table: sourceFields.table,
    dataset: sourceFields.dataset,
    memoryLimit: sourceFields.memoryLimit,
  },
  {
    additionalProperties: false,
    description: "Writes a query's result or a table as a new dataset version.",
  },
);

export type SnapshotConfig = Static<typeof snapshotConfigSchema>;

export const snapshotOperator: Operator<SnapshotConfig> = {
  name: 'snapshot',
  description:
    'Writes a query or table (PostgreSQL, or DuckDB over the inlets) as a new dataset version.',
  configSchema: snapshotConfigSchema,
  async run(config, ctx) {
    if (config.connection !== undefined) {
      return extractToDataset(ctx, { ...config, connection: config.connection });
    }
    if ((config.query === undefined) === (config.table === undefined)) {
      throw new TaskFailure(`task '${ctx.taskId}': give exactly one of 'query' and 'table'`, {
        retry: false,
      });
    }
    return withScratchDuckDb(ctx, { memoryLimit: config.memoryLimit }, async (session) => {
      const reads = await createInputViews(ctx, session);
      const query = config.query ?? `select * from ${sqlIdentifier(config.table ?? '')}`;
      return await stageQuery(ctx, session, config.dataset, query, { reads });
    });
  },
};
