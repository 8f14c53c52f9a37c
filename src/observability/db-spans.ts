/**
 * Spans for SQL statements, with OpenTelemetry's database semantic conventions:
 * `db.system` (and its newer name `db.system.name`), `db.namespace`, `db.operation.name`,
 * `db.query.text`, `server.address` / `server.port`, and `db.response.returned_rows` when
 * rows come back. The span is named `<operation> <namespace>` (`COPY memory`,
 * `SELECT shop`).
 *
 * `db.query.text` is the statement *sanitized*: comments dropped, every literal (quoted
 * strings, dollar-quoted strings, numbers) replaced by `?`, whitespace collapsed, cut at
 * `MAX_QUERY_TEXT` characters. Bound parameters are never part of the text, and what a
 * literal may hold (a password in `ATTACH 'postgres://…'`, a key in `CREATE SECRET`, a
 * watermark, a customer's e-mail) never reaches a span. Identifiers stay as written.
 */
import type { Attributes, Span } from '@opentelemetry/api';
import { traceStep, tracingEnabled } from './tracing.ts';

/** Longest `db.query.text`, in characters. */
export const MAX_QUERY_TEXT = 1000;

/** Where a statement runs: `db.system` and the rest of the database's attributes. */
export interface DbTarget {
  /** `postgresql`, `duckdb`. */
  system: string;
  /** The database name (`memory` for an in-memory DuckDB). */
  namespace: string;
  serverAddress?: string;
  serverPort?: number;
}

/**
 * Runs one SQL statement (`fn` sends it) in a span; `fn` may add what it learns
 * (`db.response.returned_rows`, `updraft.rows`, `updraft.bytes`) to the span it gets.
 * Nothing is computed when tracing is off.
 */
export function traceSql<T>(
  target: DbTarget,
  sql: string,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return traceStep('sql', NO_ATTRIBUTES, fn);
  const text = sanitizeSql(sql);
  const operation = operationName(text);
  return traceStep(`${operation} ${target.namespace}`, dbAttributes(target, operation, text), fn);
}

const NO_ATTRIBUTES: Attributes = {};

function dbAttributes(target: DbTarget, operation: string, text: string): Attributes {
  return {
    'db.system': target.system,
    'db.system.name': target.system,
    'db.namespace': target.namespace,
    'db.operation.name': operation,
    'db.query.text': text,
    ...(target.serverAddress === undefined ? {} : { 'server.address': target.serverAddress }),
    ...(target.serverPort === undefined ? {} : { 'server.port': target.serverPort }),
  };
}

/** The first keyword of a (sanitized) statement, upper-cased: `SELECT`, `COPY`, `CREATE`. */
export function operationName(text: string): string {
  const match = /^[\s(]*([A-Za-z]+)/.exec(text);
  return match?.[1]?.toUpperCase() ?? 'SQL';
}

/**
 * `sql` without comments and literals (each literal becomes `?`), whitespace collapsed,
 * at most `max` characters (then ending in `…`). Quoted identifiers are kept.
 */
export function sanitizeSql(sql: string, max = MAX_QUERY_TEXT): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end;
      out += ' ';
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
      out += ' ';
    } else if (c === "'" || ((c === 'E' || c === 'e') && next === "'" && !isWordChar(sql[i - 1]))) {
      // 'it''s' or E'it\'s'
      const escapes = c !== "'";
      i += escapes ? 2 : 1;
      while (i < n) {
        const d = sql[i];
        if (escapes && d === '\\') i += 2;
        else if (d === "'" && sql[i + 1] === "'") i += 2;
        else if (d === "'") {
          i++;
          break;
        } else i++;
      }
      out += '?';
    } else if (c === '"') {
      const end = closingQuote(sql, i);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 64))) {
      const tag = (
        /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64)) as RegExpExecArray
      )[0];
      const end = sql.indexOf(tag, i + tag.length);
      i = end === -1 ? n : end + tag.length;
      out += '?';
    } else if (isDigit(c) && !isWordChar(sql[i - 1]) && sql[i - 1] !== '$') {
      // 42, 3.14, 1e-3 (not the 1 of `$1`, `c1` or `v1`)
      i++;
      while (i < n && /[0-9.]/.test(sql[i] as string)) i++;
      if (i < n && /[eE]/.test(sql[i] as string) && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && isDigit(sql[i] as string)) i++;
      }
      out += '?';
    } else {
      out += c;
      i++;
    }
  }
  const text = out.replace(/\s+/g, ' ').trim();
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The index after the `"` closing the identifier that starts at `start` (`""` escapes). */
function closingQuote(sql: string, start: number): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
    else if (sql[i] === '"') return i + 1;
    else i++;
  }
  return sql.length;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}
