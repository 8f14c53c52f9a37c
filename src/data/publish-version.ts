/**
 * Registering a staged version, inside the caller's transaction: the version number
 * (under the dataset's row lock), the registry row with its manifest, the `latest` move,
 * the lineage edges, and `manifest.json` written into the staging folder. The caller
 * renames the staging folder into place (`DatasetStorage.publish`) as the very last step
 * of its transaction, so everything before it can still roll back.
 *
 * Two writers use it: the commit of an attempt's `dataset_version` effects
 * (`attempt-hooks.ts`) and a quarantine replay (`src/quality/quarantine-replay.ts`). Each
 * registration is a span, `version commit <dataset>`.
 */
import { traceStep } from '../observability/tracing.ts';
import type { Db } from '../store/store.ts';
import type { StagedVersion } from './effects.ts';
import { MANIFEST_FORMAT, type Manifest, manifestJson } from './manifest.ts';
import { writeManifestFile } from './manifest-file.ts';
import { ensureDataset, LATEST, latestVersionNumber, lockDataset, moveAlias } from './registry.ts';
import { dataDb } from './schema.ts';
import type { DatasetStorage } from './storage.ts';

/** Who wrote a version, as the registry row and the lineage record it. */
export interface VersionProducer {
  /** The run's primary key, or null when no run wrote it (a replay). */
  runPk: number | null;
  dagId: string;
  runId: string;
  /** A task id, or `<task>:replay` for a replay of that task's quarantine. */
  taskId: string;
  /** The attempt's try, or null when no attempt wrote it. */
  tryNumber: number | null;
}

/** A staged version and what its manifest says beyond the files. */
export interface VersionToRegister {
  staged: Pick<
    StagedVersion,
    'dataset' | 'staging' | 'rowCount' | 'bytes' | 'files' | 'schema' | 'dataInterval'
  >;
  producer: VersionProducer;
  /** The manifest's `producedBy` (an attempt's key; see `Manifest`). */
  producedBy: Manifest['producedBy'];
  code: Manifest['code'];
  /** Versions it was made from (the manifest's `inputs`). */
  inputs: { dataset: string; version: number }[];
  /** Read edges to add to the lineage with the write edge (those not recorded already). */
  lineageReads: { dataset: string; version: number }[];
  watermark: Manifest['watermark'];
  /** Extra manifest fields (`replay`). */
  extra?: Pick<Manifest, 'replay'>;
  /** Why `latest` moved, for the alias history. */
  reason: string;
}

/** Registers `input` (see the module doc); returns its number and folder. */
export function registerVersion(
  db: Db,
  storage: DatasetStorage,
  input: VersionToRegister,
  now: Date,
): Promise<{ version: number; path: string; manifest: Manifest }> {
  const { staged, producer } = input;
  const dataset = staged.dataset;
  return traceStep(
    `version commit ${dataset}`,
    () => ({
      'updraft.dataset': dataset,
      'updraft.rows': staged.rowCount,
      'updraft.bytes': staged.bytes,
      'updraft.files': staged.files.length,
    }),
    async (span) => {
      const data = dataDb(db);
      await ensureDataset(data, dataset);
      await lockDataset(db, dataset);
      const version = ((await latestVersionNumber(db, dataset)) ?? 0) + 1;
      span.setAttribute('updraft.version', version);
      const relPath = `${dataset}/v${version}`;
      const manifest: Manifest = {
        format: MANIFEST_FORMAT,
        dataset,
        version,
        rowCount: staged.rowCount,
        bytes: staged.bytes,
        files: staged.files,
        schema: staged.schema,
        producedBy: input.producedBy,
        dataInterval: staged.dataInterval,
        code: input.code,
        inputs: input.inputs,
        watermark: input.watermark,
        createdAt: now.toISOString(),
        ...input.extra,
      };
      await data
        .insertInto('dataset_versions')
        .values({
          dataset,
          version,
          path: relPath,
          manifest: JSON.stringify(manifestJson(manifest)),
          row_count: staged.rowCount,
          bytes: staged.bytes,
          file_count: staged.files.length,
          run_pk: producer.runPk,
          dag_id: producer.dagId,
          run_id: producer.runId,
          task_id: producer.taskId,
          try_number: producer.tryNumber,
          blocking_checks_passed: null,
          created_at: now,
          deleted_at: null,
        })
        .execute();
      await moveAlias(
        db,
        dataset,
        LATEST,
        version,
        { actor: 'updraft', role: null, reason: input.reason, action: 'commit' },
        now,
      );
      const lineage = {
        run_pk: producer.runPk,
        dag_id: producer.dagId,
        run_id: producer.runId,
        task_id: producer.taskId,
        at: now,
      };
      await data
        .insertInto('dataset_lineage')
        .values([
          { ...lineage, direction: 'write' as const, dataset, version },
          ...input.lineageReads.map((r) => ({
            ...lineage,
            direction: 'read' as const,
            dataset: r.dataset,
            version: r.version,
          })),
        ])
        .execute();
      await writeManifestFile(storage.stagingAt(staged.staging), manifest);
      return { version, path: relPath, manifest };
    },
  );
}
