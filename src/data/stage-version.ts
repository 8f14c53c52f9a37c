/**
 * Writes a new dataset version from a DuckDB query into a staging folder (worker side)
 * and reports it as a `dataset_version` effect. Parquet files of at most
 * `STAGED_FILE_BYTES` each (zstd), with row counts, sizes and SHA-256 checksums for the
 * manifest. Nothing becomes visible until the attempt's success is committed. The write
 * is one span (`snapshot write <dataset>`) with its statements under it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { traceStep } from '../observability/tracing.ts';
import type { OperatorContext } from '../operators/operator.ts';
import { type DuckDbSession, readParquetSql, sqlIdentifier, sqlString } from './duckdb-session.ts';
import { datasetVersionEffect, type StagedVersion } from './effects.ts';
import { gitCommitOf } from './git-commit.ts';
import type { ManifestColumn, ManifestFile } from './manifest.ts';
import { assertDatasetName } from './names.ts';
import { type DatasetStorage, LocalDatasetStorage, type StagingMeta } from './storage.ts';
import { datasetsRootOf } from './task-inputs.ts';

/** Target size of one Parquet file of a version. */
export const STAGED_FILE_BYTES = '256MB';

export interface StageOptions {
  /** Column whose maximum becomes the new watermark (incremental extract). */
  watermarkColumn?: string;
  /** Versions read beyond the task's pinned inlets (for lineage). */
  reads?: { dataset: string; version: number }[];
  /** Run before the copy, e.g. to create the views the query uses. */
  what?: string;
}

/** Summary of a staged version (also the operators' task result). */
export type StagedSummary = {
  dataset: string;
  rows: number;
  bytes: number;
  files: number;
};

/** The owner of a staging folder this attempt writes for `dataset`. */
export function attemptStagingMeta(ctx: OperatorContext, dataset: string): StagingMeta {
  const { key } = ctx.attempt;
  return {
    dataset,
    dagId: key.dagId,
    runId: key.runId,
    taskId: key.taskId,
    mapIndex: key.mapIndex,
    tryNumber: key.tryNumber,
    createdAt: new Date().toISOString(),
  };
}

/** Copies `query`'s rows into a staging folder and adds the effect that publishes them. */
export async function stageQuery(
  ctx: OperatorContext,
  session: DuckDbSession,
  dataset: string,
  query: string,
  options: StageOptions = {},
): Promise<StagedSummary> {
  const { key } = ctx.attempt;
  const what = options.what ?? `task '${key.taskId}' writing dataset '${dataset}'`;
  const written = await writeStagedVersion(
    session,
    new LocalDatasetStorage(datasetsRootOf(ctx)),
    attemptStagingMeta(ctx, dataset),
    query,
    {
      what,
      ...(options.watermarkColumn === undefined
        ? {}
        : { watermarkColumn: options.watermarkColumn }),
    },
  );
  const version: StagedVersion = {
    dataset,
    staging: written.staging,
    files: written.files,
    schema: written.schema,
    rowCount: written.rowCount,
    bytes: written.bytes,
    reads: options.reads ?? [],
    watermark: written.watermark,
    gitCommit: await gitCommitOf(path.dirname(ctx.attempt.fileloc)),
    codeHash: ctx.attempt.codeHash,
    dataInterval: {
      start: ctx.dataIntervalStart.toISOString(),
      end: ctx.dataIntervalEnd.toISOString(),
    },
  };
  ctx.addEffect(datasetVersionEffect(version));
  ctx.log.info(`staged a new version of dataset '${dataset}'`, {
    dataset,
    rows: version.rowCount,
    bytes: version.bytes,
    files: version.files.length,
    write_ms: written.writeMs,
    describe_ms: written.describeMs,
  });
  return { dataset, rows: version.rowCount, bytes: version.bytes, files: version.files.length };
}

/** A version written into a staging folder, described for its manifest. */
export interface WrittenStaging extends DescribedFolder {
  /** The staging folder, relative to the datasets root (`.staging/<uuid>`). */
  staging: string;
  watermark: StagedVersion['watermark'];
  writeMs: number;
  describeMs: number;
}

/**
 * Writes `query`'s rows as Parquet into a new staging folder of `storage` owned by
 * `meta`, and describes them (files with checksums, schema, rows, bytes; the maximum of
 * `watermarkColumn`). One span, `snapshot write <dataset>`, covers it all, with the
 * statements it runs under it. Publishing the folder is the caller's business.
 */
export function writeStagedVersion(
  session: DuckDbSession,
  storage: DatasetStorage,
  meta: StagingMeta,
  query: string,
  options: { what: string; watermarkColumn?: string },
): Promise<WrittenStaging> {
  const { dataset } = meta;
  assertDatasetName(dataset);
  return traceStep(
    `snapshot write ${dataset}`,
    { 'updraft.dataset': dataset, 'updraft.task_id': meta.taskId },
    async (span) => {
      const staged = await storage.createStaging(meta);
      const { what } = options;
      const started = performance.now();
      await session.run(
        `copy (${query}) to ${sqlString(staged.dir)} ${session.parquetCopyOptions(STAGED_FILE_BYTES)}`,
        what,
      );
      const copiedMs = performance.now() - started;
      const described = await describeFolder(session, staged.dir, what);
      let watermark: StagedVersion['watermark'] = null;
      if (options.watermarkColumn !== undefined) {
        const [row] = await session.rows(
          `select max(${sqlIdentifier(options.watermarkColumn)})::varchar as value from ${readParquetSql(staged.dir)}`,
          what,
        );
        const value = row?.value;
        if (typeof value === 'string') watermark = { column: options.watermarkColumn, value };
      }
      span.setAttributes({
        'updraft.staging': staged.rel,
        'updraft.rows': described.rowCount,
        'updraft.bytes': described.bytes,
        'updraft.files': described.files.length,
      });
      return {
        staging: staged.rel,
        ...described,
        watermark,
        writeMs: Math.round(copiedMs),
        describeMs: Math.round(performance.now() - started - copiedMs),
      };
    },
  );
}

/** What `describeFolder` finds in a version folder. */
export interface DescribedFolder {
  files: ManifestFile[];
  schema: ManifestColumn[];
  rowCount: number;
  bytes: number;
}

/** Files (with checksums), schema, row count and size of the Parquet files in `dir`. */
export async function describeFolder(
  session: DuckDbSession,
  dir: string,
  what: string,
): Promise<DescribedFolder> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.parquet')).sort();
  const counts = new Map<string, number>();
  for (const row of await session.rows(
    `select file_name, num_rows from parquet_file_metadata(${sqlString(`${dir}/*.parquet`)})`,
    what,
  )) {
    counts.set(path.basename(String(row.file_name)), Number(row.num_rows));
  }
  const files: ManifestFile[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    files.push({
      path: name,
      rows: counts.get(name) ?? 0,
      bytes: (await stat(full)).size,
      sha256: await sha256File(full),
    });
  }
  const schema = (await session.rows(`describe select * from ${readParquetSql(dir)}`, what)).map(
    (row) => ({
      name: String(row.column_name),
      type: String(row.column_type),
      nullable: row.null !== 'NO',
    }),
  );
  return {
    files,
    schema,
    rowCount: files.reduce((sum, f) => sum + f.rows, 0),
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
  };
}

/** SHA-256 of a file, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
