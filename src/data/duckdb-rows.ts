/**
 * JavaScript rows in and out of DuckDB, for `ctx.datasets` (`task-datasets.ts`). This
 * module imports `@duckdb/node-api` itself, so it is only ever imported dynamically, on
 * the first dataset call of a task.
 *
 * - `streamRowBatches`: a query's rows as plain objects, converted column by column from
 *   each result chunk and handed out in batches; only one batch and one chunk are held.
 * - `appendRows`: rows (plain objects) into a table, in data chunks of DuckDB's vector
 *   size. Column types come from the given schema, or are inferred from the first rows;
 *   each value is checked against its column's type first, so a bad value fails naming
 *   its row and column instead of being coerced.
 */
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValueConverter,
  type JS,
  JSDuckDBValueConverter,
  JSToDuckDBValueConverter,
} from '@duckdb/node-api';
import { TaskFailure } from '../core/errors.ts';
import { type DuckDbSession, sqlIdentifier } from './duckdb-session.ts';

/** Rows of a DuckDB data chunk (DuckDB's standard vector size). */
const CHUNK_ROWS = 2048;
/** Rows the appender buffers before it moves them into the table. */
const FLUSH_ROWS = 16 * CHUNK_ROWS;

// --- reading ---------------------------------------------------------------------------

/** Integer types whose values exceed JavaScript's safe integers. */
const WIDE_INTEGERS: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.BIGNUM,
]);

/** Thrown by the converter for a wide integer that a number cannot hold exactly. */
class UnsafeInteger extends Error {}

/** JavaScript values, with wide integers as numbers when `bigint` is `'number'`. */
function readConverter(bigint: 'number' | 'bigint'): DuckDBValueConverter<JS> {
  if (bigint === 'bigint') return JSDuckDBValueConverter;
  const convert: DuckDBValueConverter<JS> = (value, type) => {
    if (typeof value === 'bigint' && WIDE_INTEGERS.has(type.typeId)) {
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new UnsafeInteger(`${type.toString()} value ${value}`);
      }
      return Number(value);
    }
    return JSDuckDBValueConverter(value, type, convert);
  };
  return convert;
}

export interface StreamOptions {
  batchSize: number;
  bigint: 'number' | 'bigint';
}

/**
 * Streams the rows of `sql` in batches of at most `batchSize` plain objects. Columns
 * with the same name get DuckDB's deduplicated names (`id`, `id_1`). `what` names the
 * work in errors.
 */
export async function* streamRowBatches(
  session: DuckDbSession,
  sql: string,
  what: string,
  options: StreamOptions,
  connection: DuckDBConnection = session.main,
): AsyncGenerator<Record<string, JS>[]> {
  const result = await connection.stream(sql).catch((error: unknown) => {
    throw session.failure(error, what);
  });
  const names = result.deduplicatedColumnNames();
  const converter = readConverter(options.bigint);
  let batch: Record<string, JS>[] = [];
  for (;;) {
    const chunk = await result.fetchChunk().catch((error: unknown) => {
      throw session.failure(error, what);
    });
    if (chunk === null || chunk.rowCount === 0) break;
    const columns = names.map((name, c) => {
      try {
        return chunk.convertColumnValues(c, converter);
      } catch (error) {
        if (!(error instanceof UnsafeInteger)) throw session.failure(error, what);
        throw new TaskFailure(
          `${what}: column '${name}' holds ${error.message}, beyond the integers a JavaScript number holds exactly (±2^53): read with { bigint: 'bigint' }, or cast the column in SQL`,
          { retry: false },
        );
      }
    });
    for (let r = 0; r < chunk.rowCount; r++) {
      const row: Record<string, JS> = {};
      for (let c = 0; c < names.length; c++) row[names[c] as string] = columns[c]?.[r] ?? null;
      batch.push(row);
      if (batch.length === options.batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

// --- writing ---------------------------------------------------------------------------

export interface AppendOptions {
  /** Column → DuckDB type for the columns it lists (first, in this order). */
  schema: { [column: string]: string };
  /** Rows looked at to infer the other columns' types. */
  inferRows: number;
  /** Stops between chunks when aborted. */
  signal: AbortSignal;
}

/**
 * Creates table `table.name` in database `table.catalog` from the schema and the first
 * rows, and appends every row of `rows` to it. Returns the number of rows written.
 * `what` names the work in errors (`task 'x' writing dataset 'y'`).
 */
export async function appendRows(
  session: DuckDbSession,
  table: { catalog: string; name: string },
  rows: Iterable<object> | AsyncIterable<object>,
  what: string,
  options: AppendOptions,
): Promise<number> {
  const iterator = iteratorOf(rows, what);
  const fail = (message: string) => new TaskFailure(`${what}: ${message}`, { retry: false });
  try {
    // The first rows: enough to infer the types of the columns the schema does not list.
    const head: object[] = [];
    while (head.length < options.inferRows) {
      const next = await iterator.next();
      if (next.done) break;
      head.push(checkRow(next.value, head.length + 1, fail));
    }
    const columns = await declareColumns(session, options.schema, head, what, fail);
    const names = columns.map((c) => c.name);
    await session.run(
      `create table ${sqlIdentifier(table.catalog)}.main.${sqlIdentifier(table.name)} (${columns
        .map((c) => `${sqlIdentifier(c.name)} ${c.type}`)
        .join(', ')})`,
      `${what} (creating its table)`,
    );
    const appender = await session.main
      .createAppender(table.name, 'main', table.catalog)
      .catch((error: unknown) => {
        throw session.failure(error, what);
      });
    let written: number;
    try {
      const writer = new ChunkWriter(session, appender, names, what, fail);
      for (const row of head) writer.add(row);
      let n = head.length;
      for (;;) {
        if (n % CHUNK_ROWS === 0) {
          // A turn of the event loop per chunk: timers (heartbeats, log flushes) run, and
          // so do the native finalizers that free DuckDB's per-chunk buffers.
          await new Promise((resolve) => setImmediate(resolve));
          if (options.signal.aborted) throw options.signal.reason;
        }
        const next = await iterator.next();
        if (next.done) break;
        writer.add(checkRow(next.value, ++n, fail));
      }
      writer.flush();
      written = writer.written;
    } catch (error) {
      // After a failure the appender may refuse to close: keep the first error.
      try {
        appender.closeSync();
      } catch {}
      throw error;
    }
    try {
      appender.closeSync(); // flushes what it still holds into the table
    } catch (error) {
      throw session.failure(error, what);
    }
    return written;
  } catch (error) {
    // Let a generator run its own cleanup (finally blocks) when we stop early.
    await iterator.return?.().catch(() => {});
    throw error;
  }
}

/** An async iterator over `rows`; fails when it is not iterable. */
function iteratorOf(
  rows: Iterable<object> | AsyncIterable<object>,
  what: string,
): AsyncIterator<unknown> {
  const value = rows as unknown as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null;
  if (value !== null && typeof value === 'object') {
    const asyncIterator = value[Symbol.asyncIterator];
    if (typeof asyncIterator === 'function') return asyncIterator.call(value);
    const iterator = value[Symbol.iterator];
    if (typeof iterator === 'function') {
      const sync = iterator.call(value);
      return {
        next: async () => sync.next(),
        return: async () => sync.return?.() ?? { done: true, value: undefined },
      };
    }
  }
  throw new TaskFailure(
    `${what}: the rows must be an array, an iterable or an async iterable of objects`,
    { retry: false },
  );
}

/** `row` when it is a plain object; a failure naming the row otherwise. */
function checkRow(row: unknown, n: number, fail: (message: string) => Error): object {
  if (row !== null && typeof row === 'object' && !Array.isArray(row) && isPlain(row)) return row;
  throw fail(`row ${n} is ${describe(row)}, not an object of column values`);
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

interface Column {
  name: string;
  type: string;
}

/** The table's columns: the schema's, then the others found in `head`, types inferred. */
async function declareColumns(
  session: DuckDbSession,
  schema: { [column: string]: string },
  head: readonly object[],
  what: string,
  fail: (message: string) => Error,
): Promise<Column[]> {
  const columns: Column[] = [];
  for (const [name, type] of Object.entries(schema)) {
    if (name === '') throw fail('the schema has a column with an empty name');
    if (typeof type !== 'string' || type.trim() === '' || type.includes(';')) {
      throw fail(`schema column '${name}': give a DuckDB type such as 'BIGINT' or 'VARCHAR'`);
    }
    await session.run(`select cast(null as ${type})`, what).catch((error: unknown) => {
      throw fail(
        `schema column '${name}': '${type}' is not a DuckDB type (${(error as Error).message})`,
      );
    });
    columns.push({ name, type });
  }
  const found: string[] = [];
  const seen = new Set(columns.map((c) => c.name));
  for (const row of head) {
    for (const [name, value] of Object.entries(row)) {
      if (value === undefined || seen.has(name)) continue;
      if (name === '') throw fail('a row has a column with an empty name');
      seen.add(name);
      found.push(name);
    }
  }
  for (const name of found) {
    const type = inferType(
      head.map((row) => (row as Record<string, unknown>)[name]),
      `column '${name}'`,
      fail,
      true,
    );
    if (type === null) {
      throw fail(
        `column '${name}' is null in all of the first ${head.length} rows, so its type is unknown: give it in the schema (e.g. schema: { ${JSON.stringify(name)}: 'VARCHAR' })`,
      );
    }
    columns.push({ name, type });
  }
  if (columns.length === 0) {
    throw fail(
      head.length === 0
        ? 'there are no rows and no schema: give the schema to write an empty version'
        : 'the rows have no columns',
    );
  }
  return columns;
}

type Kind = 'boolean' | 'integer' | 'double' | 'string' | 'date' | 'bytes' | 'list' | 'struct';

/**
 * The DuckDB type of a column (or a list's items, or a struct's field) from its values:
 * booleans → BOOLEAN; numbers → BIGINT when all are safe integers, else DOUBLE; bigints
 * → BIGINT (HUGEINT beyond 64 bits); strings → VARCHAR; Dates → TIMESTAMPTZ; bytes →
 * BLOB; arrays → a LIST of their items' type; plain objects → a STRUCT. Null when every
 * value is null or undefined.
 */
function inferType(
  values: readonly unknown[],
  where: string,
  fail: (message: string) => Error,
  /** The values are the first rows' (not items or fields): name rows in messages. */
  byRow = false,
): string | null {
  let kind: Kind | null = null;
  let kindAt = 0;
  let huge = false;
  const items: unknown[] = [];
  const fields = new Map<string, unknown[]>();
  for (const [i, value] of values.entries()) {
    if (value === null || value === undefined) continue;
    const own = kindOf(value, byRow ? `row ${i + 1}, ${where}` : where, fail);
    if (own === 'integer' && typeof value === 'bigint') {
      huge ||= value > 0x7fffffffffffffffn || value < -0x8000000000000000n;
    }
    if (own === 'list') items.push(...(value as unknown[]));
    if (own === 'struct') {
      for (const [key, item] of Object.entries(value)) {
        const list = fields.get(key) ?? [];
        if (list.length === 0) fields.set(key, list);
        list.push(item);
      }
    }
    if (kind === null) {
      kind = own;
      kindAt = i;
    } else if (kind === own) continue;
    else if ((kind === 'integer' && own === 'double') || (kind === 'double' && own === 'integer')) {
      kind = 'double';
    } else {
      const seen = (k: Kind, at: number) => `${KIND_NAMES[k]}${byRow ? ` (row ${at + 1})` : ''}`;
      throw fail(
        `${where} holds ${seen(kind, kindAt)} and ${seen(own, i)}: give its type in the schema`,
      );
    }
  }
  switch (kind) {
    case null:
      return null;
    case 'boolean':
      return 'BOOLEAN';
    case 'integer':
      return huge ? 'HUGEINT' : 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'string':
      return 'VARCHAR';
    case 'date':
      return 'TIMESTAMPTZ';
    case 'bytes':
      return 'BLOB';
    case 'list': {
      const item = inferType(items, `${where} (its list items)`, fail);
      if (item === null) {
        throw fail(
          `${where} holds only empty lists (or lists of nulls) in the first rows: give its type in the schema, e.g. 'VARCHAR[]'`,
        );
      }
      return `${item}[]`;
    }
    case 'struct': {
      const entries = [...fields].map(([key, list]) => {
        const type = inferType(list, `${where} field '${key}'`, fail);
        if (type === null) {
          throw fail(
            `${where} field '${key}' is null in all of the first rows: give the column's type in the schema, e.g. 'STRUCT(${key} VARCHAR)'`,
          );
        }
        return `${sqlIdentifier(key)} ${type}`;
      });
      if (entries.length === 0) throw fail(`${where} holds only empty objects in the first rows`);
      return `STRUCT(${entries.join(', ')})`;
    }
  }
}

function kindOf(value: unknown, where: string, fail: (message: string) => Error): Kind {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isSafeInteger(value) ? 'integer' : 'double';
    case 'bigint':
      return 'integer';
    case 'string':
      return 'string';
    case 'object': {
      if (value instanceof Date) return 'date';
      if (value instanceof Uint8Array) return 'bytes';
      if (Array.isArray(value)) return 'list';
      if (isPlain(value as object)) return 'struct';
      break;
    }
  }
  throw fail(
    `${where} holds ${describe(value)}, which is not a dataset value (use booleans, numbers, bigints, strings, Dates, Uint8Arrays, arrays or plain objects)`,
  );
}

const KIND_NAMES: Record<Kind, string> = {
  boolean: 'booleans',
  integer: 'numbers',
  double: 'numbers',
  string: 'strings',
  date: 'Dates',
  bytes: 'byte arrays',
  list: 'arrays',
  struct: 'objects',
};

/** What a JavaScript value is, for messages (never the value: it may be personal data). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (value instanceof Uint8Array) return 'a Uint8Array';
  switch (typeof value) {
    case 'object': {
      const name = (value as object).constructor?.name;
      return name && name !== 'Object' ? `a ${name}` : 'an object';
    }
    case 'undefined':
      return 'undefined';
    case 'number':
      return Number.isInteger(value) ? 'a whole number' : 'a number';
    default:
      return `a ${typeof value}`;
  }
}

/** Buffers checked rows column by column and appends them a data chunk at a time. */
class ChunkWriter {
  private readonly types: DuckDBType[];
  private readonly index: Map<string, number>;
  /** One chunk, refilled for every append (a new one per append waits for GC to free it). */
  private readonly chunk: DuckDBDataChunk;
  private columns: unknown[][];
  /** Number of the first buffered row (1-based), for messages. */
  private firstRow = 1;
  pending = 0;
  written = 0;

  constructor(
    private readonly session: DuckDbSession,
    private readonly appender: DuckDBAppender,
    private readonly names: readonly string[],
    private readonly what: string,
    private readonly fail: (message: string) => Error,
  ) {
    this.types = names.map((_, c) => appender.columnType(c));
    this.index = new Map(names.map((name, c) => [name, c]));
    this.columns = names.map(() => []);
    this.chunk = DuckDBDataChunk.create(this.types);
  }

  /** Checks and buffers one row; appends a chunk when it is full. */
  add(row: object): void {
    const n = this.firstRow + this.pending;
    for (const [key, value] of Object.entries(row)) {
      if (value !== undefined && !this.index.has(key)) {
        throw this.fail(
          `row ${n} has column '${key}', which is not among the columns (${this.names.join(', ')}, from the schema and the first rows): add it to the schema`,
        );
      }
    }
    const record = row as Record<string, unknown>;
    for (let c = 0; c < this.names.length; c++) {
      const name = this.names[c] as string;
      const type = this.types[c] as DuckDBType;
      (this.columns[c] as unknown[]).push(
        checkValue(record[name], type, () => `row ${n}, column '${name}'`, this.fail),
      );
    }
    this.pending++;
    if (this.pending === CHUNK_ROWS) this.flush();
  }

  /** Appends the buffered rows. */
  flush(): void {
    if (this.pending === 0) return;
    const rows = `rows ${this.firstRow}–${this.firstRow + this.pending - 1}`;
    try {
      this.chunk.reset();
      this.chunk.setColumnsConverted(this.columns as JS[][], JSToDuckDBValueConverter);
      this.appender.appendDataChunk(this.chunk);
    } catch (error) {
      throw this.session.failure(error, `${this.what} (${rows})`);
    }
    this.written += this.pending;
    this.firstRow += this.pending;
    this.pending = 0;
    // The appender keeps appended chunks outside DuckDB's memory limit until it flushes
    // them into the table (by default every 204,800 rows): flush sooner.
    if (this.written % FLUSH_ROWS === 0) this.appender.flushSync();
    this.columns = this.names.map(() => []);
  }
}

const INTEGER_RANGES: Partial<Record<DuckDBTypeId, [number, number]>> = {
  [DuckDBTypeId.TINYINT]: [-128, 127],
  [DuckDBTypeId.SMALLINT]: [-32768, 32767],
  [DuckDBTypeId.INTEGER]: [-2147483648, 2147483647],
  [DuckDBTypeId.UTINYINT]: [0, 255],
  [DuckDBTypeId.USMALLINT]: [0, 65535],
  [DuckDBTypeId.UINTEGER]: [0, 4294967295],
};

const BIGINT_RANGES: Partial<Record<DuckDBTypeId, [bigint, bigint]>> = {
  [DuckDBTypeId.BIGINT]: [-(2n ** 63n), 2n ** 63n - 1n],
  [DuckDBTypeId.UBIGINT]: [0n, 2n ** 64n - 1n],
  [DuckDBTypeId.HUGEINT]: [-(2n ** 127n), 2n ** 127n - 1n],
  [DuckDBTypeId.UHUGEINT]: [0n, 2n ** 128n - 1n],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `value` ready for the JS-to-DuckDB converter when it fits `type` (undefined becomes
 * null, a struct's missing fields null); a failure naming `where` otherwise.
 */
function checkValue(
  value: unknown,
  type: DuckDBType,
  where: () => string,
  fail: (message: string) => Error,
): unknown {
  if (value === null || value === undefined) return null;
  const wrong = (expected: string) =>
    fail(`${where()}: ${type.toString()} takes ${expected}, got ${describe(value)}`);
  const id = type.typeId;
  switch (id) {
    case DuckDBTypeId.BOOLEAN:
      if (typeof value === 'boolean') return value;
      throw wrong('true or false');
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER: {
      const [min, max] = INTEGER_RANGES[id] ?? [0, 0];
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrong('a whole number');
      if (value < min || value > max) throw wrong(`a whole number from ${min} to ${max}`);
      return value;
    }
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT: {
      const [min, max] = BIGINT_RANGES[id] ?? [0n, 0n];
      let big: bigint;
      if (typeof value === 'bigint') big = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
      else if (typeof value === 'number' && Number.isInteger(value)) {
        throw wrong('a whole number (beyond ±2^53 a number is not exact: pass a bigint)');
      } else throw wrong('a whole number or a bigint');
      if (big < min || big > max) throw wrong(`a value from ${min} to ${max}`);
      return big;
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      if (typeof value === 'number') return value;
      throw wrong('a number');
    case DuckDBTypeId.DECIMAL: {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrong('a finite number');
      if (Math.abs(value) >= 10 ** (type.width - type.scale)) {
        throw wrong(`a number below 10^${type.width - type.scale} in magnitude`);
      }
      return value;
    }
    case DuckDBTypeId.VARCHAR:
      if (typeof value === 'string') return value;
      throw wrong('a string');
    case DuckDBTypeId.ENUM:
      if (typeof value === 'string' && Object.hasOwn(type.valueIndexes, value)) return value;
      throw wrong(
        `one of the strings ${type.values
          .slice(0, 10)
          .map((v) => `'${v}'`)
          .join(', ')}${type.values.length > 10 ? ', ...' : ''}`,
      );
    case DuckDBTypeId.UUID:
      if (typeof value === 'string' && UUID.test(value)) return value;
      throw wrong('a UUID string');
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
      throw wrong('a valid Date (e.g. new Date(text))');
    case DuckDBTypeId.BLOB:
      if (value instanceof Uint8Array) return value;
      throw wrong('a Uint8Array (or a Buffer)');
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      if (!Array.isArray(value)) throw wrong('an array');
      if (id === DuckDBTypeId.ARRAY && value.length !== type.length) {
        throw wrong(`an array of ${type.length} items (got ${value.length})`);
      }
      return value.map((item, i) =>
        checkValue(item, type.valueType, () => `${where()}[${i}]`, fail),
      );
    }
    case DuckDBTypeId.STRUCT: {
      if (typeof value !== 'object' || Array.isArray(value) || !isPlain(value as object)) {
        throw wrong('an object');
      }
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (record[key] !== undefined && !(key in type.entryIndexes)) {
          throw wrong(`an object with the fields ${type.entryNames.join(', ')} (not '${key}')`);
        }
      }
      const out: Record<string, unknown> = {};
      type.entryNames.forEach((name, i) => {
        out[name] = checkValue(
          record[name],
          type.entryTypes[i] as DuckDBType,
          () => `${where()}.${name}`,
          fail,
        );
      });
      return out;
    }
    default:
      // Other types (INTERVAL, TIME, MAP, ...) take what the converter takes; a value it
      // refuses fails the chunk, with the converter's message.
      return value;
  }
}
