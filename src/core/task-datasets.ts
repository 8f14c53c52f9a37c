/**
 * `ctx.datasets`: how the function of a `ts` task reads the dataset versions pinned for
 * it (its inlets) and writes new versions, the way the data operators do (ADR 15). The
 * data layer implements it (`src/data/task-datasets.ts`); this file holds only the
 * types, so the engine core never imports the data layer.
 *
 * Vocabulary:
 * - inlet: a dataset reference in the task's `inlets` (`orders`, `orders@prod`,
 *   `orders@v3`), resolved to one version when the task is queued and pinned for the run;
 * - version: an immutable set of Parquet files with a manifest; a written version is
 *   staged aside and published only when the attempt's success is committed, so a failed
 *   or retried attempt leaves nothing visible.
 *
 * Every call opens its own DuckDB database (in memory, spilling to a scratch folder)
 * and closes it when done; DuckDB is loaded on the first call, so a task that never
 * touches `ctx.datasets` never loads it.
 */

/**
 * A value read from a dataset. By DuckDB type: BOOLEAN → boolean; TINYINT to INTEGER,
 * FLOAT, DOUBLE, DECIMAL → number (DECIMAL as the nearest double); BIGINT and wider →
 * number, or bigint with `{ bigint: 'bigint' }`; VARCHAR, UUID, ENUM → string; DATE,
 * TIMESTAMP, TIMESTAMPTZ → Date; BLOB → Uint8Array; LIST and ARRAY → array; STRUCT →
 * object; NULL → null.
 */
export type DatasetValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | Uint8Array
  | DatasetValue[]
  | { [key: string]: DatasetValue };

/** A row as read: column name → value. */
export type DatasetRow = { [column: string]: DatasetValue };

/** The DuckDB engine of one call. */
export interface DatasetEngineOptions {
  /** DuckDB memory limit (default `'1GB'`); larger work spills to the scratch folder. */
  memoryLimit?: string;
  /** DuckDB threads (default: one per core). */
  threads?: number;
}

export interface DatasetBatchOptions extends DatasetEngineOptions {
  /**
   * How BIGINT (and wider) values arrive: `'number'` (default) fails, naming the column,
   * on a value beyond ±2^53 rather than round it; `'bigint'` gives every one as a bigint.
   */
  bigint?: 'number' | 'bigint';
  /** Rows per batch (default 10,000); only one batch is held at a time. */
  batchSize?: number;
}

export interface DatasetReadOptions extends Omit<DatasetBatchOptions, 'batchSize'> {
  /**
   * Most rows `read` and `query` return (default 1,000,000); more fails the task and
   * points to `batches` / `queryBatches`, which stream any number of rows.
   */
  maxRows?: number;
}

export interface DatasetWriteOptions extends DatasetEngineOptions {
  /**
   * Column name → DuckDB type (`'BIGINT'`, `'DOUBLE'`, `'VARCHAR'`, `'BOOLEAN'`,
   * `'TIMESTAMPTZ'`, `'DATE'`, `'DECIMAL(12,2)'`, `'DOUBLE[]'`, `'STRUCT(a INTEGER)'`,
   * ...). Listed columns come first, in this order, with these types; any other column
   * is inferred from the first rows. Needed for a column that is null in all of them,
   * and to write an empty version.
   */
  schema?: { [column: string]: string };
  /** Rows looked at to infer the types of unlisted columns (default 10,000). */
  inferRows?: number;
}

/** A version staged by `write` / `writeQuery`: its number is given when it is published. */
export interface WrittenVersion {
  dataset: string;
  rows: number;
  bytes: number;
  files: number;
}

/** An inlet of the task as pinned for this run. */
export interface DatasetInlet {
  /** The reference as written in `inlets` (`orders@prod`). */
  ref: string;
  dataset: string;
  version: number;
  rows: number;
}

/** Rows for `write`: plain objects, from an array, any iterable or an async iterable. */
export type DatasetRowsInput<T extends object> = Iterable<T> | AsyncIterable<T>;

/**
 * Reading the task's pinned inlets and writing dataset versions from task code. Errors
 * in what the task asks (an unknown inlet, a bad dataset name, a value of the wrong
 * type) fail the attempt without retry, naming the row, column and what to do.
 */
export interface TaskDatasets {
  /**
   * The inlets pinned for this attempt, as the task's `inlets` list them; an optional
   * inlet (`name?`) whose dataset had no version is left out.
   */
  inlets(): DatasetInlet[];
  /** Every row of inlet `ref` (at most `maxRows`; stream larger ones with `batches`). */
  read<T extends object = DatasetRow>(ref: string, options?: DatasetReadOptions): Promise<T[]>;
  /** The rows of inlet `ref`, streamed in batches of at most `batchSize`. */
  batches<T extends object = DatasetRow>(
    ref: string,
    options?: DatasetBatchOptions,
  ): AsyncIterable<T[]>;
  /**
   * The rows of a DuckDB query over the inlets, each a view named after its dataset
   * (at most `maxRows`).
   */
  query<T extends object = DatasetRow>(sql: string, options?: DatasetReadOptions): Promise<T[]>;
  /** `query`, streamed in batches of at most `batchSize`. */
  queryBatches<T extends object = DatasetRow>(
    sql: string,
    options?: DatasetBatchOptions,
  ): AsyncIterable<T[]>;
  /**
   * Writes `rows` as a new version of `dataset`, published when the attempt succeeds.
   * Rows are read one at a time (an async generator is never run ahead), so any number
   * can be written with bounded memory. Row order is not kept, as in any version.
   */
  write<T extends object>(
    dataset: string,
    rows: DatasetRowsInput<T>,
    options?: DatasetWriteOptions,
  ): Promise<WrittenVersion>;
  /**
   * Writes the result of a DuckDB query over the inlets (views named after their
   * datasets) as a new version of `dataset`, published when the attempt succeeds.
   */
  writeQuery(dataset: string, sql: string, options?: DatasetEngineOptions): Promise<WrittenVersion>;
}
