/**
 * Maintenance applied by pipelines. Compaction: the `version_compaction` effect of a
 * `maintain` task names a version whose files its worker rewrote into a staging folder;
 * the commit points the version at its new folder (`<version folder>.c<n>`), fenced on
 * the folder the worker read, and the staging folder is renamed there with the other
 * files of the attempt. The old folder is left for `updraft datasets vacuum` (an orphan
 * after its grace period), so a reader that resolved it keeps working.
 *
 * Retention applied by pipelines: the `dataset_retention` effects of `maintain` tasks,
 * committed by the data layer's `commitEffects` in the transaction that records the
 * task's success, with the dataset's registry row locked (as alias moves lock it).
 *
 * Deleting files cannot be undone, so it never happens in the transaction that decides
 * it. A commit does two things, in this order:
 *
 * 1. it removes the folders of versions that an *earlier, committed* maintenance
 *    retired at least `removeAfterMinutes` ago, unless an unfinished run pinned them
 *    meanwhile (`removeRetiredFolders`): if this transaction rolls back, those versions
 *    stay retired, so nothing visible is lost;
 * 2. it retires the versions the rules no longer keep (`retireVersions`, the rules of
 *    `updraft datasets vacuum`: the last `keepLast`, younger than `keepDays`, aliased,
 *    or pinned by an unfinished run are kept). Retired versions disappear from
 *    resolution at once; their files stay until a later maintenance (or `updraft
 *    datasets vacuum`), so a reader that resolved one just before keeps reading it for
 *    at least `removeAfterMinutes`.
 *
 * A failed or superseded attempt retires and removes nothing.
 */

import { ConflictError } from '../core/errors.ts';
import type { Db } from '../store/store.ts';
import { compactedPath, swapVersionFolder } from './compaction.ts';
import type { RetentionRequest, StagedCompaction } from './effects.ts';
import { lockDataset } from './registry.ts';
import type { DatasetStorage } from './storage.ts';
import { removeRetiredFolders, retireVersions, type VacuumReport } from './vacuum.ts';

/** What one retention commit did. */
export interface RetentionOutcome {
  dataset: string;
  /** Versions retired now (files removed by a later maintenance). */
  retired: number[];
  /** Versions beyond the rules kept for an alias or an unfinished run, and why. */
  protectedVersions: VacuumReport['protectedVersions'];
  /** Folders of earlier retired versions removed now. */
  removedFolders: string[];
}

/** Applies one retention request; see the module doc. */
export async function commitRetention(
  db: Db,
  storage: DatasetStorage,
  request: RetentionRequest,
  now: Date,
): Promise<RetentionOutcome> {
  const { dataset } = request;
  await lockDataset(db, dataset);
  const retiredBefore = new Date(now.getTime() - request.removeAfterMinutes * 60_000);
  const removedFolders = await removeRetiredFolders(db, storage, dataset, retiredBefore);
  const report = { removedVersions: [], protectedVersions: [], bytesFreed: 0 } as Pick<
    VacuumReport,
    'removedVersions' | 'protectedVersions' | 'bytesFreed'
  >;
  const keepAfter =
    request.keepDays === null ? null : new Date(now.getTime() - request.keepDays * 86_400_000);
  await retireVersions(
    db,
    { keepLast: request.keepLast, keepAfter, dataset, dryRun: false },
    now,
    report,
  );
  return {
    dataset,
    retired: report.removedVersions.map((v) => v.version),
    protectedVersions: report.protectedVersions,
    removedFolders,
  };
}

/**
 * Swaps a compacted version's folder; returns the folder its staging folder must be
 * renamed to. Throws when the version moved or was vacuumed since the worker read it.
 */
export async function commitCompaction(db: Db, compaction: StagedCompaction): Promise<string> {
  const { dataset, version, fromPath } = compaction;
  await lockDataset(db, dataset);
  const toPath = compactedPath(fromPath);
  const swapped = await swapVersionFolder(
    db,
    { dataset, version, fromPath, toPath },
    compaction.manifest,
  );
  if (!swapped) {
    throw new ConflictError(
      `compacting dataset '${dataset}' v${version}: the version is no longer at '${fromPath}' (compacted or vacuumed meanwhile); nothing changed`,
    );
  }
  return toPath;
}
