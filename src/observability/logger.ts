/**
 * Component logs: pino JSON lines with a `component` field and correlation ids
 * (`dagId`, `runId`, `taskId`, `tryNumber`) where they apply.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Minimum level (default `info`, or `UPDRAFT_LOG_LEVEL`). */
  level?: string;
  /** Write JSON lines to this file (created with its folder) instead of stderr. */
  file?: string;
  /** Also echo warnings and errors to stderr when writing to a file (default true). */
  echoWarnings?: boolean;
}

/** Creates the process logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.UPDRAFT_LOG_LEVEL ?? 'info';
  if (!options.file) return pino({ level, base: { pid: process.pid } }, pino.destination(2));
  mkdirSync(path.dirname(options.file), { recursive: true });
  const streams: pino.StreamEntry[] = [
    {
      level: level as pino.Level,
      stream: pino.destination({ dest: options.file, mkdir: true, sync: false }),
    },
  ];
  if (options.echoWarnings ?? true) streams.push({ level: 'warn', stream: pino.destination(2) });
  return pino({ level, base: { pid: process.pid } }, pino.multistream(streams));
}

/** A logger that discards everything (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
