/**
 * Retention. `vacuum` removes the files of old versions and keeps their registry rows
 * (marked `deleted_at`) for lineage and history:
 *
 * - a version is kept when it is among the last `keepLast` of its dataset, or younger
 *   than `keepDays`, or any alias points at it, or an unfinished run has pinned it;
 * - folders in the storage that no live version row names (left by a transaction that
 *   rolled back after its rename, or replaced by compaction) are removed once older than
 *   `orphanGraceMs`, so a commit in flight is never touched;
 * - staging folders are removed when their attempt is no longer queued or running (or,
 *   without a readable owner, or written by no attempt — a quarantine replay, try 0 —
 *   once older than `orphanGraceMs`).
 */
import { stat } from 'node:fs/promises';
import { sql } from 'kysely';
import type { Db, Store } from '../store/store.ts';
import { dataDb } from './schema.ts';
import { type DatasetStorage, NOT_AN_ATTEMPT } from './storage.ts';

export interface VacuumOptions {
  /** Versions to keep per dataset, newest first (default 10). */
  keepLast?: number;
  /** Also keep versions younger than this many days (default: none). */
  keepDays?: number;
  /** Only this dataset (default all). */
  dataset?: string;
  /** Report what would go without removing anything. */
  dryRun?: boolean;
  /** Age before an unreferenced folder counts as an orphan (default 1 hour). */
  orphanGraceMs?: number;
  now?: Date;
}

export interface VacuumReport {
  /** Versions whose files were (or would be) removed. */
  removedVersions: { dataset: string; version: number; bytes: number }[];
  /** Versions kept only because an alias or a running run needs them. */
  protectedVersions: { dataset: string; version: number; why: string }[];
  removedOrphans: string[];
  removedStaging: string[];
  bytesFreed: number;
  dryRun: boolean;
}

const DEFAULT_KEEP_LAST = 10;
const DEFAULT_ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** Applies the retention rules; see the module doc. */
export async function vacuum(
  store: Store,
  storage: DatasetStorage,
  options: VacuumOptions = {},
): Promise<VacuumReport> {
  const keepLast = options.keepLast ?? DEFAULT_KEEP_LAST;
  const now = options.now ?? new Date();
  const keepAfter =
    options.keepDays === undefined ? null : new Date(now.getTime() - options.keepDays * 86_400_000);
  const dryRun = options.dryRun ?? false;
  const report: VacuumReport = {
    removedVersions: [],
    protectedVersions: [],
    removedOrphans: [],
    removedStaging: [],
    bytesFreed: 0,
    dryRun,
  };
  let doomedPaths: string[] = [];
  await store.transaction(async (tx) => {
    doomedPaths = await retireVersions(
      tx,
      {
        keepLast,
        keepAfter,
        dryRun,
        ...(options.dataset === undefined ? {} : { dataset: options.dataset }),
      },
      now,
      report,
    );
  });
  if (!dryRun) for (const rel of doomedPaths) await storage.remove(rel);
  await removeOrphans(store.db, storage, options, now, report);
  await removeStaging(store.db, storage, options, now, report);
  return report;
}

/** What `retireVersions` keeps: the rules of the module doc. */
export interface RetirementRules {
  keepLast: number;
  /** Versions created at or after this are kept (null: no age rule). */
  keepAfter: Date | null;
  /** Only this dataset (default all). */
  dataset?: string;
  /** Decide and report, but mark nothing. */
  dryRun: boolean;
}

/**
 * Marks the versions the rules do not keep as deleted (`deleted_at = now`), inside the
 * caller's transaction, reporting them and the versions kept only because an alias or
 * an unfinished run needs them. Returns the folders of the retired versions; removing
 * them is the caller's business, once the marks are committed.
 */
export async function retireVersions(
  db: Db,
  rules: RetirementRules,
  now: Date,
  report: Pick<VacuumReport, 'removedVersions' | 'protectedVersions' | 'bytesFreed'>,
): Promise<string[]> {
  const data = dataDb(db);
  let query = data
    .selectFrom('dataset_versions')
    .select(['dataset', 'version', 'path', 'bytes', 'created_at'])
    .where('deleted_at', 'is', null);
  if (rules.dataset !== undefined) query = query.where('dataset', '=', rules.dataset);
  const versions = await query.orderBy('dataset').orderBy('version', 'desc').execute();
  const aliased = await aliasedVersions(db);
  const pinned = await pinnedByUnfinishedRuns(db);
  const rank = new Map<string, number>();
  const doomedPaths: string[] = [];
  for (const v of versions) {
    const position = (rank.get(v.dataset) ?? 0) + 1;
    rank.set(v.dataset, position);
    const key = `${v.dataset}@${v.version}`;
    if (position <= rules.keepLast) continue;
    if (rules.keepAfter !== null && new Date(v.created_at) >= rules.keepAfter) continue;
    const why = aliased.get(key) ?? (pinned.has(key) ? 'pinned by an unfinished run' : null);
    if (why !== null) {
      report.protectedVersions.push({ dataset: v.dataset, version: v.version, why });
      continue;
    }
    report.removedVersions.push({ dataset: v.dataset, version: v.version, bytes: v.bytes });
    report.bytesFreed += v.bytes;
    doomedPaths.push(v.path);
    if (!rules.dryRun) {
      await data
        .updateTable('dataset_versions')
        .set({ deleted_at: now })
        .where('dataset', '=', v.dataset)
        .where('version', '=', v.version)
        .execute();
    }
  }
  return doomedPaths;
}

/**
 * Removes the folders of `dataset`'s versions that were retired (marked deleted) at or
 * before `retiredBefore`, in an earlier, committed transaction, unless an unfinished run
 * has pinned them meanwhile. Returns the folders removed (already absent ones are not).
 */
export async function removeRetiredFolders(
  db: Db,
  storage: DatasetStorage,
  dataset: string,
  retiredBefore: Date,
): Promise<string[]> {
  const retired = await dataDb(db)
    .selectFrom('dataset_versions')
    .select(['version', 'path'])
    .where('dataset', '=', dataset)
    .where('deleted_at', 'is not', null)
    .where('deleted_at', '<=', retiredBefore)
    .execute();
  const pinned = await pinnedByUnfinishedRuns(db);
  const removed: string[] = [];
  for (const row of retired) {
    if (pinned.has(`${dataset}@${row.version}`)) continue;
    if ((await stat(storage.resolve(row.path)).catch(() => null)) === null) continue;
    await storage.remove(row.path);
    removed.push(row.path);
  }
  return removed;
}

/** `dataset@version` → "alias 'prod'" for every aliased version. */
async function aliasedVersions(db: Db): Promise<Map<string, string>> {
  const rows = await dataDb(db)
    .selectFrom('dataset_aliases')
    .select(['dataset', 'alias', 'version'])
    .execute();
  const found = new Map<string, string>();
  for (const row of rows) {
    const key = `${row.dataset}@${row.version}`;
    const before = found.get(key);
    found.set(key, before === undefined ? `alias '${row.alias}'` : `${before}, '${row.alias}'`);
  }
  return found;
}

async function pinnedByUnfinishedRuns(db: Db): Promise<Set<string>> {
  const rows = await sql<{ dataset: string; version: number }>`
    select distinct i.dataset, i.version from dataset_run_inputs i
      join dag_runs r on r.id = i.run_pk
     where r.state in ('queued', 'running') and i.version is not null`.execute(db);
  return new Set(rows.rows.map((r) => `${r.dataset}@${r.version}`));
}

async function removeOrphans(
  db: Db,
  storage: DatasetStorage,
  options: VacuumOptions,
  now: Date,
  report: VacuumReport,
): Promise<void> {
  const grace = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  const live = new Set(
    (
      await dataDb(db)
        .selectFrom('dataset_versions')
        .select('path')
        .where('deleted_at', 'is', null)
        .execute()
    ).map((r) => r.path),
  );
  const datasets = options.dataset === undefined ? await storage.listDatasets() : [options.dataset];
  for (const dataset of datasets) {
    for (const rel of await storage.listFolders(dataset)) {
      if (live.has(rel)) continue;
      const info = await stat(storage.resolve(rel)).catch(() => null);
      if (info === null || now.getTime() - info.mtime.getTime() < grace) continue;
      report.removedOrphans.push(rel);
      if (!options.dryRun) await storage.remove(rel);
    }
  }
}

async function removeStaging(
  db: Db,
  storage: DatasetStorage,
  options: VacuumOptions,
  now: Date,
  report: VacuumReport,
): Promise<void> {
  const grace = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  for (const folder of await storage.listStaging()) {
    if (options.dataset !== undefined && folder.meta?.dataset !== options.dataset) continue;
    let active = false;
    if (folder.meta === null || folder.meta.tryNumber === NOT_AN_ATTEMPT) {
      active = now.getTime() - folder.modifiedAt.getTime() < grace;
    } else {
      const { dagId, runId, taskId, mapIndex, tryNumber } = folder.meta;
      const row = await dataDb(db)
        .selectFrom('task_instances')
        .select(['state', 'try_number'])
        .where('dag_id', '=', dagId)
        .where('run_id', '=', runId)
        .where('task_id', '=', taskId)
        .where('map_index', '=', mapIndex)
        .executeTakeFirst();
      active =
        row !== undefined &&
        row.try_number === tryNumber &&
        (row.state === 'queued' || row.state === 'running');
    }
    if (active) continue;
    report.removedStaging.push(folder.rel);
    if (!options.dryRun) await storage.remove(folder.rel);
  }
}
