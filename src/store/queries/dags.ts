/**
 * The DAG registry: what the loader found, by file. The scheduler calls `syncDagFile` for
 * each loaded file; every DAG version is kept in `dag_versions` so runs stay pinned to
 * the spec they were created with.
 */
import type { DagSpec } from '../../core/dag-spec.ts';
import type { SpecIssue } from '../../core/errors.ts';
import type { FileLoadResult } from '../../loader/file-load-result.ts';
import { type Db, toJson } from '../store.ts';

/** One loaded file, as the loader reports it. */
export type LoadedFile = FileLoadResult;

/**
 * Records a file's DAGs (new versions, paused state for new DAGs) and its import errors;
 * DAGs the file no longer defines become inactive. Returns the dag ids that changed.
 */
export async function syncDagFile(
  db: Db,
  file: LoadedFile,
  now: Date,
  pausedOnCreation: boolean,
): Promise<string[]> {
  const changed: string[] = [];
  const codeHash = file.codeHash ?? '';
  const existing = await db
    .selectFrom('dags')
    .select(['dag_id', 'version_hash', 'is_active', 'fileloc'])
    .where((eb) =>
      eb.or([
        eb('fileloc', '=', file.fileloc),
        ...(file.dags.length
          ? [
              eb(
                'dag_id',
                'in',
                file.dags.map((d) => d.spec.dagId),
              ),
            ]
          : []),
      ]),
    )
    .execute();
  const byId = new Map(existing.map((row) => [row.dag_id, row]));
  for (const { spec, versionHash } of file.dags) {
    const row = byId.get(spec.dagId);
    if (row && row.fileloc !== file.fileloc && row.is_active) continue; // first file keeps its id
    await db
      .insertInto('dag_versions')
      .values({
        dag_id: spec.dagId,
        version_hash: versionHash,
        code_hash: codeHash,
        fileloc: file.fileloc,
        spec: toJson(spec),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    if (!row) {
      await db
        .insertInto('dags')
        .values({
          dag_id: spec.dagId,
          fileloc: file.fileloc,
          code_hash: codeHash,
          version_hash: versionHash,
          spec: toJson(spec),
          is_paused: spec.pausedOnCreation ?? pausedOnCreation,
          is_active: true,
          last_parsed_at: now,
        })
        .execute();
      changed.push(spec.dagId);
    } else {
      await db
        .updateTable('dags')
        .set({
          fileloc: file.fileloc,
          code_hash: codeHash,
          version_hash: versionHash,
          spec: toJson(spec),
          is_active: true,
          last_parsed_at: now,
        })
        .where('dag_id', '=', spec.dagId)
        .execute();
      if (row.version_hash !== versionHash || !row.is_active) changed.push(spec.dagId);
    }
  }
  const defined = new Set(file.dags.map((d) => d.spec.dagId));
  const gone = existing.filter(
    (row) => row.fileloc === file.fileloc && row.is_active && !defined.has(row.dag_id),
  );
  // A file that failed to import keeps its DAGs active (the previous version goes on
  // running) — only a clean load that no longer defines a DAG retires it.
  if (gone.length && file.issues.length === 0) {
    await markInactive(
      db,
      gone.map((r) => r.dag_id),
    );
    changed.push(...gone.map((r) => r.dag_id));
  }
  await setImportErrors(db, file.fileloc, file.issues, now);
  return changed;
}

/** Marks the DAGs of a deleted file inactive; returns their ids. */
export async function removeDagFile(db: Db, fileloc: string): Promise<string[]> {
  const rows = await db
    .selectFrom('dags')
    .select('dag_id')
    .where('fileloc', '=', fileloc)
    .where('is_active', '=', true)
    .execute();
  await markInactive(
    db,
    rows.map((r) => r.dag_id),
  );
  await db.deleteFrom('import_errors').where('fileloc', '=', fileloc).execute();
  return rows.map((r) => r.dag_id);
}

async function markInactive(db: Db, dagIds: string[]): Promise<void> {
  if (!dagIds.length) return;
  await db
    .updateTable('dags')
    .set({ is_active: false, next_run_after: null })
    .where('dag_id', 'in', dagIds)
    .execute();
}

async function setImportErrors(db: Db, fileloc: string, issues: SpecIssue[], now: Date) {
  if (!issues.length) {
    await db.deleteFrom('import_errors').where('fileloc', '=', fileloc).execute();
    return;
  }
  await db
    .insertInto('import_errors')
    .values({ fileloc, issues: toJson(issues), created_at: now })
    .onConflict((oc) =>
      oc.column('fileloc').doUpdateSet({ issues: toJson(issues), created_at: now }),
    )
    .execute();
}

/** A DAG version's spec and code, as pinned by runs. */
export interface DagVersion {
  dagId: string;
  versionHash: string;
  codeHash: string;
  fileloc: string;
  spec: DagSpec;
}

export async function getDagVersion(
  db: Db,
  dagId: string,
  versionHash: string,
): Promise<DagVersion | undefined> {
  const row = await db
    .selectFrom('dag_versions')
    .selectAll()
    .where('dag_id', '=', dagId)
    .where('version_hash', '=', versionHash)
    .executeTakeFirst();
  return (
    row && {
      dagId: row.dag_id,
      versionHash: row.version_hash,
      codeHash: row.code_hash,
      fileloc: row.fileloc,
      spec: row.spec,
    }
  );
}
