/**
 * Human output of the CLI: aligned tables, ISO times, durations, and colours that
 * appear only on a terminal (never when piped, nor with `NO_COLOR` set).
 * Machine output is `printJson`: the `Operations` return types, as they are.
 */
import type { RunState, TaskState } from '../core/states.ts';

const ANSI = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

export type Colour = keyof typeof ANSI;

/** Whether to colour what goes to `stream`: a TTY, no `NO_COLOR`, not a dumb terminal. */
export function colourEnabled(stream: NodeJS.WriteStream): boolean {
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

/** Paints text for one stream. */
export type Paint = (colour: Colour, text: string) => string;

/** A painter for `stream` (identity when colours are off). */
export function painter(stream: NodeJS.WriteStream = process.stdout): Paint {
  if (!colourEnabled(stream)) return (_colour, text) => text;
  return (colour, text) => `\x1b[${ANSI[colour][0]}m${text}\x1b[${ANSI[colour][1]}m`;
}

const STATE_COLOURS: Record<TaskState | RunState, Colour> = {
  none: 'gray',
  scheduled: 'blue',
  queued: 'blue',
  running: 'cyan',
  success: 'green',
  failed: 'red',
  up_for_retry: 'yellow',
  skipped: 'magenta',
  upstream_failed: 'yellow',
};

/** A task or run state, coloured by meaning. */
export function paintState(paint: Paint, state: TaskState | RunState): string {
  return paint(STATE_COLOURS[state], state);
}

/** Prints a value as indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes one line to stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matches ANSI colour codes
const ANSI_PATTERN = /\x1b\[[0-9;]*m/g;

function visibleWidth(text: string): number {
  return text.replace(ANSI_PATTERN, '').length;
}

/**
 * Formats rows as an aligned table under an upper-case header; the last column is not
 * padded. Cells may hold colour codes.
 */
export function formatTable(header: string[], rows: string[][], paint: Paint): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => visibleWidth(row[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleWidth(cell)),
      )
      .join('  ')
      .trimEnd();
  return [paint('bold', line(header.map((h) => h.toUpperCase()))), ...rows.map(line)].join('\n');
}

/** Prints a table, or `empty` (dimmed) when there are no rows. */
export function printTable(header: string[], rows: string[][], empty: string): void {
  const paint = painter();
  say(rows.length === 0 ? paint('dim', empty) : formatTable(header, rows, paint));
}

/** An ISO time without milliseconds (`2024-05-01T02:00:00Z`), or `-`. */
export function isoTime(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined) return '-';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A duration for people: `850ms`, `12.3s`, `4m05s`, `2h03m`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Duration between two ISO times, `-` when either is missing. */
export function between(start: string | null, end: string | null): string {
  if (!start || !end) return '-';
  return humanDuration(new Date(end).getTime() - new Date(start).getTime());
}
