/**
 * Log retention: removes attempt logs (`<home>/logs/dag_id=…/…/attempt=N.log`) last
 * written before a cutoff, and the folders left empty. The component log
 * (`updraft.log`) and anything outside `dag_id=…` folders are left alone. The store
 * keeps its attempt rows; their logs then read as missing.
 */
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';

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
