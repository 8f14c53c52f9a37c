/**
 * Component logs: pino JSON lines with a `component` field and correlation ids where
 * they apply — `dagId`, `runId`, `taskId`, `tryNumber` as the caller passes them, and
 * `trace_id` (plus `span_id` inside a span), added here: derived from `dagId`/`runId`
 * (see `runTraceIds`), so a line names the same trace as the run's spans and task logs.
 *
 * Secrets are masked before a line is written:
 * - fields named `password`, `token`, `secret`, `apiKey`, `authorization`, `cookie` at the
 *   top level or one level down are written as `***`;
 * - a URL's password (`postgres://etl:***@db/x`) anywhere in the line;
 * - every value registered with `registerSecret` (connection passwords, webhook secrets).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger, type LoggerOptions as PinoOptions } from 'pino';
import { activeTraceFields, runTraceIds } from './trace-context.ts';

export type { Logger };

export interface LoggerOptions {
  /** Minimum level (default `info`, or `UPDRAFT_LOG_LEVEL`). */
  level?: string;
  /** Write JSON lines to this file (created with its folder) instead of stderr. */
  file?: string;
  /** Also echo warnings and errors to stderr when writing to a file (default true). */
  echoWarnings?: boolean;
}

const SECRET_FIELDS = ['password', 'token', 'secret', 'apiKey', 'authorization', 'cookie'];

/** Secrets shorter than this are not masked (masking `a` would garble every line). */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();

/** Masks `value` (as it appears in JSON, and URL-encoded) in every component log line from now on. */
export function registerSecret(value: string | null | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(JSON.stringify(value).slice(1, -1));
  secrets.add(JSON.stringify(encodeURIComponent(value)).slice(1, -1));
}

/** `text` with URL passwords and registered secrets replaced by `***`. */
export function maskSecrets(text: string): string {
  let masked = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*:)[^\s@"/]+@/gi, '$1***@');
  for (const secret of secrets) masked = masked.replaceAll(secret, '***');
  return masked;
}

/** The pino options every Updraft process logger uses (masking, correlation ids). */
export function componentLogOptions(level: string): PinoOptions {
  return {
    level,
    base: { pid: process.pid },
    redact: {
      paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]),
      censor: '***',
    },
    mixin(merge: object) {
      const fields = merge as { dagId?: unknown; runId?: unknown; trace_id?: unknown };
      const active = activeTraceFields();
      if (active) return active;
      if (
        typeof fields.dagId === 'string' &&
        typeof fields.runId === 'string' &&
        !fields.trace_id
      ) {
        return { trace_id: runTraceIds(fields.dagId, fields.runId).traceId };
      }
      return {};
    },
    hooks: {
      streamWrite: maskSecrets,
    },
  };
}

/** Creates the process logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.UPDRAFT_LOG_LEVEL ?? 'info';
  const settings = componentLogOptions(level);
  if (!options.file) return pino(settings, pino.destination(2));
  mkdirSync(path.dirname(options.file), { recursive: true });
  const streams: pino.StreamEntry[] = [
    {
      level: level as pino.Level,
      stream: pino.destination({ dest: options.file, mkdir: true, sync: false }),
    },
  ];
  if (options.echoWarnings ?? true) streams.push({ level: 'warn', stream: pino.destination(2) });
  return pino(settings, pino.multistream(streams));
}

/** A logger that discards everything (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
