/**
 * `manifest.json` in a version folder. It is written whole (a temporary file renamed over
 * it, so a reader never sees half a file), and it mirrors the `manifest` column of the
 * version's registry row: a change to a published version's manifest (the quality
 * summary) updates the row in the transaction, and the file only after that transaction
 * committed, from the committed row (`syncManifestFile` with `afterCommit`). A rolled-back
 * transaction therefore never leaves the file ahead of the row.
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Json } from '../core/dag-spec.ts';
import type { Database } from '../store/schema.ts';
import { MANIFEST_FILE, type Manifest } from './manifest.ts';
import { dataDb } from './schema.ts';
import type { DatasetStorage } from './storage.ts';

/** Writes `manifest` as `<dir>/manifest.json` by an atomic rename. */
export async function writeManifestFile(dir: string, manifest: Manifest | Json): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temp, file);
}

/**
 * Rewrites the `manifest.json` of `dataset` v`version` from its committed registry row,
 * holding the row's lock meanwhile, so that two writers finish with the newest row's
 * manifest whatever their order. Does nothing for a missing or vacuumed version.
 */
export async function syncManifestFile(
  db: Kysely<Database>,
  storage: DatasetStorage,
  dataset: string,
  version: number,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await dataDb(tx)
      .selectFrom('dataset_versions')
      .select(['manifest', 'path'])
      .where('dataset', '=', dataset)
      .where('version', '=', version)
      .where('deleted_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (row === undefined) return;
    const manifest =
      typeof row.manifest === 'string' ? (JSON.parse(row.manifest) as Manifest) : row.manifest;
    await writeManifestFile(storage.resolve(row.path), manifest);
  });
}
