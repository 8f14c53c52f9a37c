/**
 * Pretty-printing of JSON log lines (task attempt logs, the scheduler's own log):
 * `2024-05-01T02:00:00.123Z INFO  message key=value`. Correlation ids (dag, run, task,
 * attempt, trace, span) and the code version of "attempt started" are left out: whoever prints the
 * lines knows them, and `--json` shows them. Lines that are not JSON are printed as they are.
 */
import type { Colour, Paint } from './output.ts';

const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

const LEVEL_COLOURS: Record<string, Colour> = {
  trace: 'gray',
  debug: 'gray',
  info: 'green',
  warn: 'yellow',
  error: 'red',
  fatal: 'red',
};

/** Fields not repeated after the message. */
const HIDDEN = new Set([
  'time',
  'level',
  'msg',
  'message',
  'dag_id',
  'run_id',
  'task_id',
  'map_index',
  'try_number',
  'dagId',
  'runId',
  'taskId',
  'mapIndex',
  'tryNumber',
  'trace_id',
  'span_id',
  'traceId',
  'spanId',
  'pid',
  'hostname',
  'fileloc',
  'code_hash',
  'v',
]);

/** Formats one log line for a person (as it is when it is not a JSON object). */
export function formatLogLine(line: string, paint: Paint): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return line;
  return formatLogRecord(record as Record<string, unknown>, paint);
}

/** Formats one parsed log record for a person. */
export function formatLogRecord(fields: Record<string, unknown>, paint: Paint): string {
  const level =
    typeof fields.level === 'number'
      ? (PINO_LEVELS[fields.level] ?? String(fields.level))
      : String(fields.level ?? 'info');
  const date =
    typeof fields.time === 'number' || typeof fields.time === 'string'
      ? new Date(fields.time)
      : null;
  const time = date && !Number.isNaN(date.getTime()) ? date.toISOString() : '';
  const message = String(fields.msg ?? fields.message ?? '');
  const extras = Object.entries(fields)
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  const levelText = paint(LEVEL_COLOURS[level] ?? 'bold', level.toUpperCase().padEnd(5));
  const parts = [paint('dim', time), levelText, message];
  if (extras.length > 0) parts.push(paint('dim', extras.join(' ')));
  return parts.filter((p) => p !== '').join(' ');
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'object' && value !== null && 'stack' in value) {
    const stack = (value as { stack: unknown }).stack;
    if (typeof stack === 'string') return `\n${stack}`;
  }
  return JSON.stringify(value);
}
