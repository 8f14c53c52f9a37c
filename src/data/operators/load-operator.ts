/**
 * The `load` operator: writes a dataset version (one of the task's inlets) into a
 * PostgreSQL table in one transaction — `append`, `replace` (delete then insert, so
 * readers never see an empty table), or `upsert` on `key` columns (`insert ... on
 * conflict do update`). Rows travel as CSV through `COPY FROM STDIN`. A failure rolls the
 * whole load back: the table is as it was.
 */
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../../core/dag-spec.ts';
import { TaskFailure } from '../../core/errors.ts';
import type { Operator } from '../../operators/operator.ts';
import { readParquetSql, sqlString } from '../duckdb-session.ts';
import {
  connectPostgres,
  copyCsvIntoTable,
  postgresTypeOf,
  qualifiedName,
  sqlFailure,
} from '../postgres-source.ts';
import { openScratchDuckDb, withScratch } from '../scratch.ts';
import { inputFolder, pinnedInput } from '../task-inputs.ts';

export const loadConfigSchema = Type.Object(
  {
    dataset: Type.String({
      minLength: 1,
      description: 'Dataset reference to load (one of the inlets): name, name@alias or name@v<N>.',
    }),
    connection: Type.String({ minLength: 1, description: 'Name of a PostgreSQL connection.' }),
    table: Type.String({ minLength: 1, description: 'Target table, optionally schema-qualified.' }),
    mode: Type.Union([Type.Literal('append'), Type.Literal('replace'), Type.Literal('upsert')], {
      default: 'append',
      description: "'append' (default), 'replace' (every row replaced) or 'upsert' (on key).",
    }),
    key: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'Key columns for upsert (a unique index or primary key on them must exist).',
      }),
    ),
    createTable: Type.Boolean({
      default: true,
      description:
        'Create the table from the dataset schema when it does not exist (default true).',
    }),
  },
  {
    additionalProperties: false,
    description: 'Loads a dataset into a PostgreSQL table in one transaction.',
  },
);

export type LoadConfig = Static<typeof loadConfigSchema>;

export const loadOperator: Operator<LoadConfig> = {
  name: 'load',
  description:
    'Writes a dataset into a PostgreSQL table: append, replace or upsert, in one transaction.',
  configSchema: loadConfigSchema,
  async run(config, ctx): Promise<Json> {
    if (config.mode === 'upsert' && (config.key === undefined || config.key.length === 0)) {
      throw new TaskFailure(`task '${ctx.taskId}': mode 'upsert' needs 'key' (the key columns)`, {
        retry: false,
      });
    }
    const input = pinnedInput(ctx, config.dataset);
    return withScratch(ctx, async (dir) => {
      const csv = path.join(dir, 'load.csv');
      const session = await openScratchDuckDb(ctx, dir);
      let columns: { name: string; type: string }[];
      try {
        const source = readParquetSql(inputFolder(ctx, input));
        const what = `task '${ctx.taskId}' reading dataset '${input.dataset}' v${input.version}`;
        columns = (await session.rows(`describe select * from ${source}`, what)).map((r) => ({
          name: String(r.column_name),
          type: String(r.column_type),
        }));
        await session.run(
          `copy (select * from ${source}) to ${sqlString(csv)} (format csv, header false)`,
          what,
        );
      } finally {
        session.close();
      }
      const missingKey = (config.key ?? []).filter((k) => !columns.some((c) => c.name === k));
      if (missingKey.length > 0) {
        throw new TaskFailure(
          `task '${ctx.taskId}': key column(s) ${missingKey.join(', ')} are not in dataset '${input.dataset}' (columns: ${columns.map((c) => c.name).join(', ')})`,
          { retry: false },
        );
      }
      const pg = await connectPostgres(ctx, config.connection);
      const table = qualifiedName(config.table);
      const columnList = columns.map((c) => qualifiedName(c.name)).join(', ');
      try {
        await pg.query('begin');
        if (config.createTable) {
          await pg.query(
            `create table if not exists ${table} (${columns.map((c) => `${qualifiedName(c.name)} ${postgresTypeOf(c.type)}`).join(', ')}${config.mode === 'upsert' ? `, primary key (${(config.key ?? []).map(qualifiedName).join(', ')})` : ''})`,
          );
        }
        let rows = 0;
        if (config.mode === 'upsert') {
          await pg.query(
            `create temp table updraft_load (like ${table} including defaults) on commit drop`,
          );
          await copyCsvIntoTable(pg, `updraft_load (${columnList})`, csv);
          const key = new Set(config.key);
          const updates = columns
            .filter((c) => !key.has(c.name))
            .map((c) => `${qualifiedName(c.name)} = excluded.${qualifiedName(c.name)}`);
          const result = await pg.query(
            `insert into ${table} (${columnList}) select ${columnList} from updraft_load ` +
              `on conflict (${(config.key ?? []).map(qualifiedName).join(', ')}) ` +
              (updates.length === 0 ? 'do nothing' : `do update set ${updates.join(', ')}`),
          );
          rows = result.rowCount ?? 0;
        } else {
          if (config.mode === 'replace') await pg.query(`delete from ${table}`);
          await copyCsvIntoTable(pg, `${table} (${columnList})`, csv);
          rows = input.rows;
        }
        await pg.query('commit');
        ctx.log.info('load done', { table: config.table, mode: config.mode, rows });
        return {
          table: config.table,
          mode: config.mode,
          rows,
          dataset: input.dataset,
          version: input.version,
        };
      } catch (error) {
        await pg.query('rollback').catch(() => {});
        throw sqlFailure(
          ctx,
          `loading dataset '${input.dataset}' v${input.version} into ${config.table} (rolled back)`,
          error,
        );
      } finally {
        await pg.close();
      }
    });
  },
};
