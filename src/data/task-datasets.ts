/**
 * `ctx.datasets` of a `ts` task (`TaskDatasets`, `src/core/task-datasets.ts`; ADR 15),
 * built from the same helpers the data operators use: `task-inputs.ts` for the pinned
 * inlets, `scratch.ts` for a DuckDB session per call (spilling into a scratch folder,
 * interrupted when the attempt aborts), and `stage-version.ts` to stage a version and add
 * the `dataset_version` effect that publishes it when the attempt's success is committed.
 *
 * Nothing here loads DuckDB at import time: `DuckDbSession` imports it on open, and
 * `duckdb-rows.ts` (row conversion) is imported on the first call that needs it.
 */
import path from 'node:path';
import { datasetNameProblem } from '../core/dataset-ref.ts';
import { TaskFailure } from '../core/errors.ts';
import type {
  DatasetBatchOptions,
  DatasetEngineOptions,
  DatasetInlet,
  DatasetReadOptions,
  DatasetRow,
  DatasetWriteOptions,
  TaskDatasets,
  WrittenVersion,
} from '../core/task-datasets.ts';
import type { OperatorContext } from '../operators/operator.ts';
import { readParquetSql, sqlString } from './duckdb-session.ts';
import { streamWithScratchDuckDb, withScratchDuckDb } from './scratch.ts';
import { stageQuery } from './stage-version.ts';
import { createInputViews, inputFolder, pinnedInput, pinnedInputs } from './task-inputs.ts';

/** Rows per batch of `batches` and `queryBatches` by default. */
export const DEFAULT_BATCH_SIZE = 10_000;
/** Most rows `read` and `query` return by default. */
export const DEFAULT_MAX_ROWS = 1_000_000;
/** Rows `write` looks at to infer column types by default. */
export const DEFAULT_INFER_ROWS = 10_000;

/** `ctx.datasets` for the task running in `ctx`. Cheap: nothing opens until a call. */
export function createTaskDatasets(ctx: OperatorContext): TaskDatasets {
  const task = `task '${ctx.taskId}'`;
  const fail = (message: string) => new TaskFailure(`${task}: ${message}`, { retry: false });

  const engineOf = (options: DatasetEngineOptions) => ({
    ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
    ...(options.threads === undefined
      ? {}
      : { threads: positiveInteger(options.threads, 'threads', fail) }),
  });

  const bigintOf = (value: unknown): 'number' | 'bigint' => {
    if (value === undefined || value === 'number' || value === 'bigint') return value ?? 'number';
    throw fail(`option bigint must be 'number' or 'bigint', got ${JSON.stringify(value)}`);
  };

  /** Rows of `sql` in batches; `views`: create a view per inlet first. */
  function stream<T>(
    sql: string,
    what: string,
    options: DatasetBatchOptions,
    views: boolean,
  ): AsyncIterable<T[]> {
    const batchSize = positiveInteger(
      options.batchSize ?? DEFAULT_BATCH_SIZE,
      'option batchSize',
      fail,
    );
    const bigint = bigintOf(options.bigint);
    return streamWithScratchDuckDb(ctx, engineOf(options), async function* (session) {
      if (views) await createInputViews(ctx, session);
      const { streamRowBatches } = await import('./duckdb-rows.ts');
      yield* streamRowBatches(session, sql, what, { batchSize, bigint }) as AsyncIterable<T[]>;
    });
  }

  /** Every row of `source`, failing past `maxRows`. */
  async function collect<T>(
    source: AsyncIterable<T[]>,
    maxRows: number,
    what: string,
    hint: string,
  ) {
    const all: T[] = [];
    for await (const batch of source) {
      if (all.length + batch.length > maxRows) {
        throw new TaskFailure(`${what}: more than maxRows (${maxRows}) rows: ${hint}`, {
          retry: false,
        });
      }
      for (const row of batch) all.push(row);
    }
    return all;
  }

  function readSource<T>(ref: string, options: DatasetBatchOptions) {
    const input = pinnedInput(ctx, ref);
    const what = `${task} reading dataset '${input.dataset}' v${input.version}`;
    const sql = `select * from ${readParquetSql(inputFolder(ctx, input))}`;
    return { input, what, rows: stream<T>(sql, what, options, false) };
  }

  function queryWhat(): string {
    const views = [...new Set([...pinnedInputs(ctx).values()].map((input) => input.dataset))];
    return views.length === 0
      ? `${task} query (the task has no inlets: add the datasets it reads to its inlets)`
      : `${task} query over its inlets (views: ${views.join(', ')})`;
  }

  /** Checks the name of a dataset to write; warns when it is not among the outlets. */
  function outputName(dataset: string): void {
    const problem = datasetNameProblem(dataset);
    if (problem !== null) throw fail(problem);
    if (!ctx.attempt.task.outlets.includes(dataset)) {
      ctx.log.warn(
        `dataset '${dataset}' is not among the task's outlets: add it, so lineage checks, 'dags validate' and readers see who writes it`,
        { dataset },
      );
    }
  }

  return {
    inlets(): DatasetInlet[] {
      return [...pinnedInputs(ctx)].map(([ref, input]) => ({
        ref,
        dataset: input.dataset,
        version: input.version,
        rows: input.rows,
      }));
    },

    async read<T extends object = DatasetRow>(ref: string, options: DatasetReadOptions = {}) {
      const maxRows = positiveInteger(options.maxRows ?? DEFAULT_MAX_ROWS, 'option maxRows', fail);
      const source = readSource<T>(ref, options);
      const hint = `read it with ctx.datasets.batches('${ref}'), which streams any number of rows`;
      if (source.input.rows > maxRows) {
        throw new TaskFailure(
          `${source.what}: it has ${source.input.rows} rows, more than maxRows (${maxRows}): ${hint}`,
          { retry: false },
        );
      }
      return collect(source.rows, maxRows, source.what, hint);
    },

    batches<T extends object = DatasetRow>(ref: string, options: DatasetBatchOptions = {}) {
      return readSource<T>(ref, options).rows;
    },

    async query<T extends object = DatasetRow>(sql: string, options: DatasetReadOptions = {}) {
      const maxRows = positiveInteger(options.maxRows ?? DEFAULT_MAX_ROWS, 'option maxRows', fail);
      const what = queryWhat();
      return collect(
        stream<T>(sql, what, options, true),
        maxRows,
        what,
        'use ctx.datasets.queryBatches, which streams any number of rows, or writeQuery',
      );
    },

    queryBatches<T extends object = DatasetRow>(sql: string, options: DatasetBatchOptions = {}) {
      return stream<T>(sql, queryWhat(), options, true);
    },

    async write<T extends object>(
      dataset: string,
      rows: Iterable<T> | AsyncIterable<T>,
      options: DatasetWriteOptions = {},
    ): Promise<WrittenVersion> {
      outputName(dataset);
      const schema = options.schema ?? {};
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
        throw fail(
          `writing dataset '${dataset}': option schema must map column names to DuckDB types`,
        );
      }
      const inferRows = positiveInteger(
        options.inferRows ?? DEFAULT_INFER_ROWS,
        'option inferRows',
        fail,
      );
      const what = `${task} writing dataset '${dataset}'`;
      return withScratchDuckDb(ctx, engineOf(options), async (session, dir) => {
        const { appendRows } = await import('./duckdb-rows.ts');
        // The rows go to a table in a database file first, so they can exceed memory.
        await session.run(
          `attach ${sqlString(path.join(dir, 'rows.duckdb'))} as updraft_rows`,
          what,
        );
        await appendRows(session, { catalog: 'updraft_rows', name: 'rows' }, rows, what, {
          schema,
          inferRows,
          signal: ctx.signal,
        });
        return stageQuery(ctx, session, dataset, 'select * from updraft_rows.main.rows');
      });
    },

    async writeQuery(dataset: string, sql: string, options: DatasetEngineOptions = {}) {
      outputName(dataset);
      return withScratchDuckDb(ctx, engineOf(options), async (session) => {
        const reads = await createInputViews(ctx, session);
        return stageQuery(ctx, session, dataset, sql, {
          reads,
          what: `${queryWhat()} writing dataset '${dataset}'`,
        });
      });
    },
  };
}

function positiveInteger(value: unknown, name: string, fail: (message: string) => Error): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  throw fail(`${name} must be a whole number of at least 1, got ${JSON.stringify(value)}`);
}
