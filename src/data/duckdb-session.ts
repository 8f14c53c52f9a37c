/**
 * A DuckDB database for one piece of work (an operator run, a compaction), opened
 * lazily: `@duckdb/node-api` is imported on first use, never at module load, so the
 * loader and the scheduler (which import the operator registry) never load the native
 * engine.
 *
 * The database is in memory with a memory limit and a spill folder, so a transform
 * larger than memory spills to disk instead of failing. Errors name what ran (`task
 * 'x'`, `model 'y'`) and carry DuckDB's own message; aborting the signal interrupts the
 * running statement. Each statement run is a span under the attempt's (when tracing is
 * on), with the statement's text sanitized.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { TaskFailure } from '../core/errors.ts';
import { type DbTarget, traceSql } from '../observability/db-spans.ts';

/** Every statement is a span (`src/observability/db-spans.ts`); `memory` is DuckDB's name for it. */
const DUCKDB: DbTarget = { system: 'duckdb', namespace: 'memory' };

export interface DuckDbOptions {
  /** DuckDB `memory_limit` (default `1GB`). */
  memoryLimit?: string;
  /** Worker threads (default: DuckDB's choice, one per core). */
  threads?: number;
  /** Folder for spilled data (default: DuckDB's `.tmp` next to the process). */
  tempDirectory?: string;
  /** Interrupts the running statement when aborted. */
  signal?: AbortSignal;
}

/** One in-memory DuckDB database with one or more connections. */
export class DuckDbSession {
  private readonly connections: DuckDBConnection[] = [];
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly main: DuckDBConnection,
    private readonly signal: AbortSignal | undefined,
    /** The memory limit in bytes. */
    readonly memoryLimitBytes: number,
  ) {
    this.connections.push(main);
    signal?.addEventListener('abort', this.interrupt, { once: true });
  }

  /** Opens an in-memory database with `options`. */
  static async open(options: DuckDbOptions = {}): Promise<DuckDbSession> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const memoryLimit = options.memoryLimit ?? '1GB';
    const memoryLimitBytes = parseByteSize(memoryLimit, 'memoryLimit');
    const config: Record<string, string> = {
      memory_limit: memoryLimit,
      // Parquet written in parallel need not keep row order; keeps memory bounded.
      preserve_insertion_order: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    };
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.tempDirectory !== undefined) config.temp_directory = options.tempDirectory;
    const instance = await DuckDBInstance.create(':memory:', config);
    const main = await instance.connect();
    return new DuckDbSession(instance, main, options.signal, memoryLimitBytes);
  }

  /**
   * Parquet row-group size that lets each writer thread buffer a row group within the
   * memory limit: a sixteenth of it, between 4 MiB and 128 MiB.
   */
  get rowGroupBytes(): number {
    return Math.min(128 * MIB, Math.max(4 * MIB, Math.floor(this.memoryLimitBytes / 16)));
  }

  /**
   * The options of a `COPY … TO <folder>` that writes a dataset version's files: zstd
   * Parquet, files of about `fileBytes` (a number or a size such as `'256MB'`), row groups
   * sized by `rowGroupBytes`, named `part-<i>.parquet`.
   */
  parquetCopyOptions(fileBytes: number | string): string {
    const size = typeof fileBytes === 'number' ? String(fileBytes) : sqlString(fileBytes);
    return (
      `(format parquet, compression zstd, file_size_bytes ${size}, ` +
      `row_group_size_bytes ${this.rowGroupBytes}, filename_pattern 'part-{i}')`
    );
  }

  /** Another connection to the same database (for statements run in parallel). */
  async connect(): Promise<DuckDBConnection> {
    const connection = await this.instance.connect();
    this.connections.push(connection);
    return connection;
  }

  /** Runs `sql` (one or more statements) on `connection` (default the main one). */
  run(sql: string, what: string, connection = this.main): Promise<void> {
    return traceSql(DUCKDB, sql, async () => {
      try {
        await connection.run(sql);
      } catch (error) {
        throw this.failure(error, what);
      }
    });
  }

  /** Runs a query and returns its rows as JSON-safe objects (bigints as strings). */
  rows(sql: string, what: string, connection = this.main): Promise<Record<string, unknown>[]> {
    return traceSql(DUCKDB, sql, async (span) => {
      try {
        const reader = await connection.runAndReadAll(sql);
        const rows = reader.getRowObjectsJson();
        span.setAttribute('db.response.returned_rows', rows.length);
        return rows;
      } catch (error) {
        throw this.failure(error, what);
      }
    });
  }

  /** Closes every connection and the database. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal?.removeEventListener('abort', this.interrupt);
    for (const connection of this.connections) connection.closeSync();
    this.instance.closeSync();
  }

  /** Interrupts whatever runs on any of the session's connections. */
  readonly interrupt = () => {
    if (this.closed) return;
    for (const connection of this.connections) connection.interrupt();
  };

  /** `error` from DuckDB as the task failure to throw: `what` and DuckDB's message. */
  failure(error: unknown, what: string): Error {
    if (this.signal?.aborted) return this.signal.reason as Error;
    const message = error instanceof Error ? error.message : String(error);
    return new TaskFailure(`${what}: DuckDB error: ${message}`, { cause: error });
  }
}

const MIB = 1024 * 1024;
const UNITS: Record<string, number> = {
  B: 1,
  KB: 1000,
  KIB: 1024,
  MB: 1000 ** 2,
  MIB,
  GB: 1000 ** 3,
  GIB: 1024 ** 3,
  TB: 1000 ** 4,
  TIB: 1024 ** 4,
};

/** Bytes in a size such as `512MB`, `1GiB` or `64 MB`; throws naming `field` otherwise. */
export function parseByteSize(text: string, field: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  const unit = UNITS[(match?.[2] || 'B').toUpperCase()];
  if (match === null || unit === undefined) {
    throw new TaskFailure(`${field} '${text}' is not a size: use e.g. '512MB' or '2GB'`, {
      retry: false,
    });
  }
  return Math.floor(Number(match[1]) * unit);
}

/** `text` as a DuckDB string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** `name` as a quoted DuckDB/PostgreSQL identifier. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A `read_parquet` over every Parquet file of the version folder `dir`. */
export function readParquetSql(dir: string): string {
  return `read_parquet(${sqlString(`${dir}/*.parquet`)})`;
}
