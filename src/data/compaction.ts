/**
 * Compaction: rewrites a version made of many small Parquet files into fewer files of
 * about `targetFileBytes`. The data does not change (same rows, same schema); the
 * version gets a new folder (`orders/v3.c1`, `.c2`, ...) and its row points at it in one
 * update. The old folder is left for vacuum (an orphan after the grace period), so a
 * reader that resolved the old path keeps working meanwhile.
 *
 * `updraft datasets compact` does it all in one process (`compactVersion`); a `maintain`
 * task rewrites in its worker (`rewriteFiles` into a staging folder) and the engine swaps
 * the folder with the task's success (`swapVersionFolder`, `pipeline-maintenance.ts`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError } from '../core/errors.ts';
import type { Db, Store } from '../store/store.ts';
import { DuckDbSession, readParquetSql, sqlString } from './duckdb-session.ts';
import { MANIFEST_FILE, type Manifest, type ManifestFile, manifestJson } from './manifest.ts';
import { resolveRef } from './registry.ts';
import { dataDb } from './schema.ts';
import { type DescribedFolder, describeFolder } from './stage-version.ts';
import type { DatasetStorage } from './storage.ts';

export interface CompactionResult {
  dataset: string;
  version: number;
  filesBefore: number;
  filesAfter: number;
  path: string;
  /** False when the version was already compact (one file, or none smaller than the target). */
  compacted: boolean;
}

/** Whether a version's files are worth rewriting: several, two or more under half the target. */
export function isFragmented(files: readonly ManifestFile[], targetFileBytes: number): boolean {
  const small = files.filter((f) => f.bytes < targetFileBytes / 2).length;
  return files.length > 1 && small > 1;
}

/** The folder a compaction of the version folder `rel` writes: `orders/v3` → `orders/v3.c1` → `.c2`. */
export function compactedPath(rel: string): string {
  const base = rel.replace(/\.c\d+$/, '');
  const generation = Number(/\.c(\d+)$/.exec(rel)?.[1] ?? 0) + 1;
  return `${base}.c${generation}`;
}

/**
 * Copies every row of the Parquet files in `fromDir` into files of about
 * `targetFileBytes` in `toDir` (an existing, empty folder) and describes them.
 */
export async function rewriteFiles(
  session: DuckDbSession,
  fromDir: string,
  toDir: string,
  targetFileBytes: number,
  what: string,
): Promise<DescribedFolder> {
  await session.run(
    `copy (select * from ${readParquetSql(fromDir)}) to ${sqlString(toDir)} ` +
      session.parquetCopyOptions(targetFileBytes),
    what,
  );
  return describeFolder(session, toDir, what);
}

/**
 * Points version `version` of `dataset` at the compacted folder `toPath` with its new
 * manifest, fenced on the folder it had (`fromPath`): false when the version moved or
 * was vacuumed meanwhile, and nothing changed.
 */
export async function swapVersionFolder(
  db: Db,
  target: { dataset: string; version: number; fromPath: string; toPath: string },
  manifest: Manifest,
): Promise<boolean> {
  const updated = await dataDb(db)
    .updateTable('dataset_versions')
    .set({
      path: target.toPath,
      manifest: JSON.stringify(manifestJson(manifest)),
      bytes: manifest.bytes,
      file_count: manifest.files.length,
    })
    .where('dataset', '=', target.dataset)
    .where('version', '=', target.version)
    .where('path', '=', target.fromPath)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/** Compacts `dataset` version `version` (default: the latest). */
export async function compactVersion(
  store: Store,
  storage: DatasetStorage,
  dataset: string,
  version: number | undefined,
  targetFileBytes = 256 * 1024 * 1024,
): Promise<CompactionResult> {
  const row = await resolveRef(
    store.db,
    version === undefined ? { name: dataset, alias: 'latest' } : { name: dataset, version },
  );
  const manifest = row.manifest;
  const result = {
    dataset,
    version: row.version,
    filesBefore: manifest.files.length,
    filesAfter: manifest.files.length,
    path: row.path,
    compacted: false,
  };
  if (!isFragmented(manifest.files, targetFileBytes)) return result;
  const target = compactedPath(row.path);
  const dir = storage.resolve(target);
  const session = await DuckDbSession.open();
  let described: DescribedFolder;
  const what = `compacting dataset '${dataset}' v${row.version}`;
  try {
    await storage.remove(target);
    await mkdir(dir, { recursive: true });
    described = await rewriteFiles(session, storage.resolve(row.path), dir, targetFileBytes, what);
  } finally {
    session.close();
  }
  if (described.rowCount !== row.row_count) {
    await storage.remove(target);
    throw new ConflictError(
      `${what}: the rewrite has ${described.rowCount} rows, the version ${row.row_count}; nothing changed`,
    );
  }
  const next: Manifest = { ...manifest, files: described.files, bytes: described.bytes };
  await writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(next, null, 2)}\n`);
  const swapped = await swapVersionFolder(
    store.db,
    { dataset, version: row.version, fromPath: row.path, toPath: target },
    next,
  );
  if (!swapped) {
    await storage.remove(target);
    throw new ConflictError(`${what}: the version changed meanwhile; nothing changed`);
  }
  return { ...result, filesAfter: described.files.length, path: target, compacted: true };
}
