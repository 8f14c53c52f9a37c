/**
 * Compaction: rewrites a version made of many small Parquet files into fewer files of
 * about `targetFileBytes`. The data does not change (same rows, same schema); the
 * version gets a new folder (`orders/v3.c1`, `.c2`, ...) and its row points at it in one
 * update. The old folder is left for vacuum (an orphan after the grace period), so a
 * reader that resolved the old path keeps working meanwhile.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { DuckDbSession, readParquetSql, sqlString } from './duckdb-session.ts';
import { MANIFEST_FILE, type Manifest, manifestJson } from './manifest.ts';
import { resolveRef } from './registry.ts';
import { dataDb } from './schema.ts';
import { describeFolder } from './stage-version.ts';
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
  const small = manifest.files.filter((f) => f.bytes < targetFileBytes / 2).length;
  const result = {
    dataset,
    version: row.version,
    filesBefore: manifest.files.length,
    filesAfter: manifest.files.length,
    path: row.path,
    compacted: false,
  };
  if (manifest.files.length <= 1 || small <= 1) return result;
  const base = row.path.replace(/\.c\d+$/, '');
  const generation = Number(/\.c(\d+)$/.exec(row.path)?.[1] ?? 0) + 1;
  const target = `${base}.c${generation}`;
  const dir = storage.resolve(target);
  const session = await DuckDbSession.open();
  let described: Awaited<ReturnType<typeof describeFolder>>;
  const what = `compacting dataset '${dataset}' v${row.version}`;
  try {
    await storage.remove(target);
    await mkdir(dir, { recursive: true });
    await session.run(
      `copy (select * from ${readParquetSql(storage.resolve(row.path))}) to ${sqlString(dir)} ` +
        session.parquetCopyOptions(targetFileBytes),
      what,
    );
    described = await describeFolder(session, dir, what);
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
  const updated = await dataDb(store.db)
    .updateTable('dataset_versions')
    .set({
      path: target,
      manifest: JSON.stringify(manifestJson(next)),
      bytes: described.bytes,
      file_count: described.files.length,
    })
    .where('dataset', '=', dataset)
    .where('version', '=', row.version)
    .where('path', '=', row.path)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) {
    await storage.remove(target);
    throw new ConflictError(`${what}: the version changed meanwhile; nothing changed`);
  }
  return { ...result, filesAfter: described.files.length, path: target, compacted: true };
}
