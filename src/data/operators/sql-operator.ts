/**
 * The `sql` operator: runs SQL against a PostgreSQL connection. With `parameters`, the
 * statement is sent with bound parameters (`$1`, `$2`, ...; never spliced into the
 * text); without, the text may hold several statements. Templates (`{{ ds }}`) in `sql`
 * are rendered first, but values belong in `parameters`.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { QueryResult } from 'pg';
import type { Json } from '../../core/dag-spec.ts';
import type { Operator } from '../../operators/operator.ts';
import { connectPostgres, sqlFailure } from '../postgres-source.ts';

export const sqlConfigSchema = Type.Object(
  {
    connection: Type.String({
      minLength: 1,
      description:
        'Name of a PostgreSQL connection (stored, in the connections file, or UPDRAFT_CONN_<NAME>).',
    }),
    sql: Type.String({ minLength: 1, description: 'SQL to run. Templates are rendered first.' }),
    parameters: Type.Optional(
      Type.Array(Type.Unknown(), {
        description:
          'Values bound to $1, $2, ... (one statement only). Templates in strings are rendered.',
      }),
    ),
    returnRows: Type.Union([Type.Literal('none'), Type.Literal('first'), Type.Literal('all')], {
      default: 'none',
      description:
        "What becomes the task result besides the row count: 'none' (default), 'first' row, or 'all' rows (at most maxRows).",
    }),
    maxRows: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 1000,
      description: "Most rows returned with returnRows 'all' (default 1000); more fails the task.",
    }),
  },
  { additionalProperties: false, description: 'Runs SQL against a PostgreSQL connection.' },
);

export type SqlConfig = Static<typeof sqlConfigSchema>;

export const sqlOperator: Operator<SqlConfig> = {
  name: 'sql',
  description: 'Runs SQL (with bound parameters) against a PostgreSQL connection.',
  configSchema: sqlConfigSchema,
  async run(config, ctx): Promise<Json> {
    const session = await connectPostgres(ctx, config.connection);
    try {
      // Several statements (no parameters) give one result each; the last one counts.
      const result = (await session
        .query(config.sql, config.parameters as unknown[] | undefined)
        .catch((error: unknown) => {
          throw sqlFailure(ctx, `SQL error on connection '${config.connection}'`, error);
        })) as QueryResult | QueryResult[];
      const last = Array.isArray(result) ? result.at(-1) : result;
      const rowCount: number = last?.rowCount ?? 0;
      ctx.log.info('SQL done', { connection: config.connection, row_count: rowCount });
      const rows = (last?.rows ?? []) as { [key: string]: Json }[];
      if (config.returnRows === 'first') return { rowCount, row: toJsonRow(rows[0]) };
      if (config.returnRows === 'all') {
        if (rows.length > config.maxRows) {
          throw sqlFailure(
            ctx,
            'too many rows',
            new Error(
              `the query returned ${rows.length} rows, over maxRows ${config.maxRows}: write large results to a dataset (extract) instead`,
            ),
          );
        }
        return { rowCount, rows: rows.map((r) => toJsonRow(r)) };
      }
      return { rowCount };
    } finally {
      await session.close();
    }
  },
};

/** A pg row as JSON (dates as ISO strings, bigints and numerics as the strings pg gives). */
function toJsonRow(row: { [key: string]: unknown } | undefined): Json {
  if (row === undefined) return null;
  return JSON.parse(JSON.stringify(row)) as Json;
}
