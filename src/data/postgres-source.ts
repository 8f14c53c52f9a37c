/**
 * PostgreSQL for data operators (worker side): opening a client on a named connection —
 * a PostgreSQL server, or an embedded PGlite database served on its socket (see
 * `pglite-server.ts`) —, mapping column types between PostgreSQL and DuckDB, and the
 * two bulk paths —
 * `COPY (query) TO STDOUT` into a CSV file and a CSV file into `COPY table FROM STDIN` —
 * streamed with back-pressure, so memory stays bounded whatever the row count.
 * `pg` and `pg-copy-streams` are imported on first use.
 *
 * Operators send statements through `PostgresSession.query` and the two copy functions,
 * so each statement is a span under the attempt's (`src/observability/db-spans.ts`):
 * database, server, operation, the sanitized text, and the rows (and bytes copied).
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Span } from '@opentelemetry/api';
import type pg from 'pg';
import { TaskFailure } from '../core/errors.ts';
import { type DbTarget, traceSql } from '../observability/db-spans.ts';
import type { OperatorContext } from '../operators/operator.ts';
import {
  PGLITE_SOCKET_PORT,
  pgliteDataDir,
  pgliteSocketDir,
  pgliteSocketPath,
} from './pglite-address.ts';

const POSTGRES_TYPES = new Set(['postgres', 'postgresql', 'pglite']);

/** A client on a named connection; `close` ends it (idempotent). */
export interface PostgresSession {
  client: pg.Client;
  /** The database and server, for the statements' spans. */
  target: DbTarget;
  /**
   * Sends `text` (with `values` bound to `$1`, `$2`, …: never part of the text) in a span.
   * Several statements without values resolve to an array, one result each.
   */
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

/**
 * Opens a client on connection `name` (a `postgres://` URL); fails clearly (naming the
 * task and connection, never the URL) otherwise. Aborting the attempt ends the client.
 */
export async function connectPostgres(
  ctx: OperatorContext,
  name: string,
): Promise<PostgresSession> {
  let info: ReturnType<OperatorContext['connection']>;
  try {
    info = ctx.connection(name);
  } catch (error) {
    throw new TaskFailure(`task '${ctx.taskId}': ${(error as Error).message}`, {
      retry: false,
      cause: error,
    });
  }
  if (!POSTGRES_TYPES.has(info.type)) {
    throw new TaskFailure(
      `task '${ctx.taskId}': connection '${name}' is a '${info.type}' connection; this operator needs a postgres:// connection (or pglite:// for an embedded database)`,
      { retry: false },
    );
  }
  const { default: pgModule } = await import('pg');
  const client = new pgModule.Client({
    ...(info.type === 'pglite'
      ? embeddedAddress(ctx, name, info.url)
      : { connectionString: info.url }),
    application_name: `updraft:${ctx.dagId}.${ctx.taskId}`,
  });
  client.on('error', () => {}); // reported by the failing query
  // An embedded database is named by its folder: not worth a span attribute.
  const target: DbTarget =
    info.type === 'pglite'
      ? { system: 'postgresql', namespace: 'pglite' }
      : {
          system: 'postgresql',
          namespace: info.schema ?? info.login ?? 'postgres',
          serverAddress: info.host,
          serverPort: info.port ?? 5432,
        };
  const query = (text: string, values?: unknown[]) =>
    traceSql(target, text, async (span) => {
      const result = await client.query(text, values);
      const results = result as pg.QueryResult | pg.QueryResult[];
      const last = Array.isArray(results) ? results.at(-1) : results;
      if (last?.rowCount != null) span.setAttribute('updraft.rows', last.rowCount);
      if (last?.fields?.length) span.setAttribute('db.response.returned_rows', last.rows.length);
      return result;
    });
  try {
    await client.connect();
    // Text forms both sides agree on: ISO dates in UTC, exact floats, hex bytea.
    await query(
      "set timezone = 'UTC'; set datestyle = 'ISO, YMD'; set extra_float_digits = 3; set bytea_output = 'hex'; set intervalstyle = 'iso_8601'",
    );
  } catch (error) {
    await client.end().catch(() => {});
    const where = `${info.host}${info.port === null ? '' : `:${info.port}`}`;
    throw new TaskFailure(
      `task '${ctx.taskId}': cannot connect to connection '${name}' (${where}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  let ended: Promise<void> | undefined;
  const close = () => {
    ended ??= client.end().catch(() => {});
    return ended;
  };
  const onAbort = () => void close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  return {
    client,
    target,
    query,
    close: () => {
      ctx.signal.removeEventListener('abort', onAbort);
      return close();
    },
  };
}

/**
 * Client settings for a `pglite:///folder` connection: the socket its server listens on
 * (src/data/pglite-server.ts). No server there fails the attempt (retried: a standalone
 * being restarted serves it again).
 */
function embeddedAddress(ctx: OperatorContext, name: string, url: string): pg.ClientConfig {
  let dataDir: string;
  try {
    dataDir = pgliteDataDir(url);
  } catch (error) {
    throw new TaskFailure(
      `task '${ctx.taskId}': connection '${name}': ${(error as Error).message}`,
      {
        retry: false,
      },
    );
  }
  if (!existsSync(pgliteSocketPath(dataDir))) {
    throw new TaskFailure(
      `task '${ctx.taskId}': connection '${name}' names the embedded database ${dataDir}, which no process serves: it is served while \`updraft standalone\` runs (or point the connection at a PostgreSQL server)`,
    );
  }
  return {
    host: pgliteSocketDir(dataDir),
    port: PGLITE_SOCKET_PORT,
    user: 'postgres',
    database: 'postgres',
  };
}

/** A SQL error as a task failure naming the task and the database's message. */
export function sqlFailure(ctx: OperatorContext, what: string, error: unknown): Error {
  if (ctx.signal.aborted) return ctx.signal.reason as Error;
  const e = error as Error & { position?: string; detail?: string; hint?: string };
  const extra = [e.detail, e.hint && `hint: ${e.hint}`].filter(Boolean).join('; ');
  return new TaskFailure(
    `task '${ctx.taskId}': ${what}: ${e.message}${extra ? ` (${extra})` : ''}`,
    { cause: error },
  );
}

/** A column as `fields` of a pg result describe it. */
export interface PgField {
  name: string;
  dataTypeID: number;
  dataTypeModifier: number;
}

/** The DuckDB type that reads PostgreSQL's CSV text of a column of type `oid` exactly. */
export function duckTypeOf(field: PgField): string {
  switch (field.dataTypeID) {
    case 16:
      return 'BOOLEAN';
    case 20:
      return 'BIGINT';
    case 21:
      return 'SMALLINT';
    case 23:
      return 'INTEGER';
    case 26:
      return 'UBIGINT';
    case 700:
      return 'FLOAT';
    case 701:
      return 'DOUBLE';
    case 1700: {
      if (field.dataTypeModifier < 4) return 'VARCHAR'; // unconstrained numeric: keep every digit
      const precision = ((field.dataTypeModifier - 4) >> 16) & 0xffff;
      const scale = (field.dataTypeModifier - 4) & 0xffff;
      return precision <= 38 ? `DECIMAL(${precision},${scale})` : 'VARCHAR';
    }
    case 1082:
      return 'DATE';
    case 1083:
      return 'TIME';
    case 1114:
      return 'TIMESTAMP';
    case 1184:
      return 'TIMESTAMPTZ';
    case 2950:
      return 'UUID';
    default:
      return 'VARCHAR'; // text, json, arrays, intervals, enums, ...: their text form
  }
}

/** The PostgreSQL type for a DuckDB column type (tables created by `load`). */
export function postgresTypeOf(duckType: string): string {
  const type = duckType.toUpperCase();
  if (/^DECIMAL\(\d+,\d+\)$/.test(type)) return type.replace('DECIMAL', 'numeric');
  const map: Record<string, string> = {
    BOOLEAN: 'boolean',
    TINYINT: 'smallint',
    SMALLINT: 'smallint',
    INTEGER: 'integer',
    BIGINT: 'bigint',
    HUGEINT: 'numeric',
    UTINYINT: 'smallint',
    USMALLINT: 'integer',
    UINTEGER: 'bigint',
    UBIGINT: 'numeric',
    FLOAT: 'real',
    DOUBLE: 'double precision',
    DATE: 'date',
    TIME: 'time',
    TIMESTAMP: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamptz',
    UUID: 'uuid',
    BLOB: 'bytea',
  };
  return map[type] ?? 'text';
}

/** Streams `COPY (query) TO STDOUT` as CSV into `file`. */
export async function copyQueryToCsv(
  session: PostgresSession,
  query: string,
  file: string,
): Promise<void> {
  const { to } = await import('pg-copy-streams');
  const text = `copy (${query}) to stdout with (format csv)`;
  await traceSql(session.target, text, async (span) => {
    const source = session.client.query(to(text));
    await pipeCounting(span, source, createWriteStream(file));
    span.setAttribute('updraft.rows', source.rowCount);
  });
}

/** Streams the CSV `file` into `COPY <target> FROM STDIN`. */
export async function copyCsvIntoTable(
  session: PostgresSession,
  target: string,
  file: string,
): Promise<void> {
  const { from } = await import('pg-copy-streams');
  const text = `copy ${target} from stdin with (format csv)`;
  await traceSql(session.target, text, async (span) => {
    const sink = session.client.query(from(text));
    await pipeCounting(span, createReadStream(file), sink);
    span.setAttribute('updraft.rows', sink.rowCount);
  });
}

/** Pipes `from` into `to`, counting the bytes into `updraft.bytes` when `span` records. */
function pipeCounting(
  span: Span,
  from: NodeJS.ReadableStream,
  to: NodeJS.WritableStream,
): Promise<void> {
  if (!span.isRecording()) return pipeline(from, to);
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return pipeline(from, counter, to).then(() => {
    span.setAttribute('updraft.bytes', bytes);
  });
}

/** A PostgreSQL identifier, possibly schema-qualified (`sales.orders`), quoted. */
export function qualifiedName(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}
