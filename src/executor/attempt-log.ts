/**
 * The log of one attempt: a JSON-lines file, one object per line —
 *
 *   {"time":"2024-05-01T02:00:03.120Z","level":"info","msg":"loaded 3 rows",
 *    "dag_id":"etl","run_id":"scheduled__2024-05-01T00:00:00Z","task_id":"load",
 *    "map_index":-1,"try_number":1,"rows":3}
 *
 * `time` is ISO 8601 UTC, `level` one of `debug`, `info`, `warn`, `error`; the
 * correlation ids follow, then the caller's fields (which cannot replace the first
 * eight). Output of shell commands and captured console output carry
 * `"stream":"stdout"` or `"stream":"stderr"`. Secret values registered with
 * `maskSecret` are written as `***`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.ts';
import type { TaskLogger } from '../core/task-context.ts';
import type { AttemptKey } from './executor.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One line of an attempt log. */
export interface AttemptLogRecord {
  time: string;
  level: LogLevel;
  msg: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  [field: string]: unknown;
}

const RESERVED = new Set([
  'time',
  'level',
  'msg',
  'dag_id',
  'run_id',
  'task_id',
  'map_index',
  'try_number',
]);

/** Secrets shorter than this are not masked (masking `a` would garble every line). */
const MIN_SECRET_LENGTH = 3;

export class AttemptLog implements TaskLogger {
  private readonly secrets = new Set<string>();
  /** Correlation fields after the ids on every record (`trace_id`, `span_id`). */
  private correlation: Record<string, string> = {};
  private closed = false;
  private writeError: Error | undefined;

  private constructor(
    private readonly stream: WriteStream,
    private readonly key: AttemptKey,
    private readonly clock: Clock,
    private readonly onRecord: ((record: AttemptLogRecord) => void) | undefined,
  ) {
    stream.on('error', (error) => {
      this.writeError ??= error;
    });
  }

  /**
   * Opens (appends to) the log file at `path`, creating its directory. Rejects when the
   * file cannot be opened. `onRecord` also receives every record (the CLI prints them).
   */
  static async open(
    path: string,
    key: AttemptKey,
    clock: Clock,
    onRecord?: (record: AttemptLogRecord) => void,
  ): Promise<AttemptLog> {
    await mkdir(dirname(path), { recursive: true });
    const stream = createWriteStream(path, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return new AttemptLog(stream, key, clock, onRecord);
  }

  /** Writes `value` (and its URL-encoded form) as `***` from now on. */
  maskSecret(value: string | null | undefined): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    this.secrets.add(JSON.stringify(value).slice(1, -1));
    this.secrets.add(JSON.stringify(encodeURIComponent(value)).slice(1, -1));
  }

  /** Adds correlation fields (`trace_id`, `span_id`) to every record from now on. */
  correlate(fields: Record<string, string>): void {
    this.correlation = { ...this.correlation, ...fields };
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  /** Writes one record. Records written after `close` are dropped. */
  write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (this.closed) return;
    const record: AttemptLogRecord = {
      time: new Date(this.clock.now()).toISOString(),
      level,
      msg: String(message),
      dag_id: this.key.dagId,
      run_id: this.key.runId,
      task_id: this.key.taskId,
      map_index: this.key.mapIndex,
      try_number: this.key.tryNumber,
      ...this.correlation,
    };
    if (fields) {
      for (const [name, value] of Object.entries(fields)) {
        if (!RESERVED.has(name)) record[name] = value;
      }
    }
    let line = serialise(record);
    for (const secret of this.secrets) line = line.replaceAll(secret, '***');
    this.stream.write(`${line}\n`);
    this.onRecord?.(JSON.parse(line) as AttemptLogRecord);
  }

  /** Flushes and closes the file. Resolves with the first write error, if any. */
  async close(): Promise<Error | undefined> {
    if (this.closed) return this.writeError;
    this.closed = true;
    await new Promise<void>((resolve) => this.stream.end(resolve));
    return this.writeError;
  }
}

/** JSON of a record; errors become `{name, message, stack}`, bigints strings. */
function serialise(record: AttemptLogRecord): string {
  const replacer = (_key: string, value: unknown): unknown => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error)
      return { name: value.name, message: value.message, stack: value.stack };
    return value;
  };
  try {
    return JSON.stringify(record, replacer);
  } catch (error) {
    const base = Object.fromEntries(Object.entries(record).filter(([name]) => RESERVED.has(name)));
    return JSON.stringify({
      ...base,
      fields_error: `fields not serialisable: ${(error as Error).message}`,
    });
  }
}
