/**
 * Log retention: removes attempt logs (`<home>/logs/dag_id=…/…/attempt=N.log`) last
 * written before a cutoff, and the folders left empty. The component log
 * (`updraft.log`) and anything outside `dag_id=…` folders are left alone. The store
 * keeps its attempt rows; their logs then read as missing. `updraft logs cleanup` runs it
 * once; with `UPDRAFT_LOG_RETENTION` a scheduler process runs it daily.
 */
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { parseDuration } from '../core/duration.ts';
import { UpdraftError } from '../core/errors.ts';

export interface LogCleanupResult {
  /** Files removed (or that would be, with `dryRun`). */
  files: string[];
  bytes: number;
  /** Folders removed because they were left empty. */
  folders: number;
}

/** Removes attempt logs not written to since `cutoff`. */
export async function cleanupAttemptLogs(
  logsDir: string,
  cutoff: Date,
  options: { dryRun?: boolean } = {},
): Promise<LogCleanupResult> {
  const result: LogCleanupResult = { files: [], bytes: 0, folders: 0 };
  let top: string[];
  try {
    top = await readdir(logsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw error;
  }
  for (const name of top) {
    if (!name.startsWith('dag_id=')) continue;
    const dir = path.join(logsDir, name);
    if (await sweep(dir, cutoff.getTime(), options.dryRun ?? false, result)) {
      if (!options.dryRun) await rmdir(dir).catch(() => {});
      result.folders++;
    }
  }
  return result;
}

/** Sweeps one folder; returns whether it is empty afterwards. */
async function sweep(
  dir: string,
  cutoffMs: number,
  dryRun: boolean,
  result: LogCleanupResult,
): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true });
  let left = entries.length;
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (await sweep(full, cutoffMs, dryRun, result)) {
        if (!dryRun) await rmdir(full).catch(() => {});
        result.folders++;
        left--;
      }
    } else if (entry.isFile() && entry.name.endsWith('.log')) {
      const info = await stat(full);
      if (info.mtimeMs >= cutoffMs) continue;
      if (!dryRun) await rm(full, { force: true });
      result.files.push(full);
      result.bytes += info.size;
      left--;
    }
  }
  return left === 0;
}

/** Environment variable: keep attempt logs this long (`30d`); unset keeps them forever. */
export const LOG_RETENTION_VAR = 'UPDRAFT_LOG_RETENTION';

/** The retention from the environment in ms, or null when unset; a bad value throws naming it. */
export function logRetentionFromEnv(
  env: Record<string, string | undefined> = process.env,
): number | null {
  const text = env[LOG_RETENTION_VAR]?.trim();
  if (!text) return null;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms) || ms < 3_600_000) {
    throw new UpdraftError(
      'log_retention_invalid',
      `${LOG_RETENTION_VAR}='${text}' is not a retention: use a duration of an hour or more, e.g. 30d`,
    );
  }
  return ms;
}

/**
 * With `UPDRAFT_LOG_RETENTION` set, removes attempt logs older than it now and then every
 * `everyMs` (default a day) on `clock`, in the background; throws on a bad value. Returns
 * the function that stops it.
 */
export function startLogRetention(options: {
  logsDir: string;
  clock: Clock;
  log: Logger;
  env?: Record<string, string | undefined>;
  everyMs?: number;
}): () => void {
  const { clock, log } = options;
  const retentionMs = logRetentionFromEnv(options.env);
  if (retentionMs === null) return () => {};
  let cancel: (() => void) | null = null;
  const sweepOnce = () => {
    // The next sweep is planned first, so it does not depend on this one's end.
    cancel = clock.setTimer(options.everyMs ?? 86_400_000, sweepOnce);
    cleanupAttemptLogs(options.logsDir, new Date(clock.now() - retentionMs))
      .then((r) => {
        if (r.files.length) {
          log.info(
            { component: 'log-retention', files: r.files.length, bytes: r.bytes },
            'removed old task logs',
          );
        }
      })
      .catch((err: unknown) => log.warn({ err, component: 'log-retention' }, 'log cleanup failed'));
  };
  sweepOnce();
  return () => cancel?.();
}
