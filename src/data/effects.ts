/**
 * Effects: what an attempt asks to publish when its success is committed. A worker
 * cannot touch the metadata store, so an operator that wrote a version into a staging
 * folder reports it with `ctx.addEffect({ kind: 'dataset_version', data })`; the effect
 * travels with the success event, and the scheduler hands it to the data layer's
 * `commitEffects` hook inside the transaction that records the success.
 */
import type { Json } from '../core/dag-spec.ts';
import { UpdraftError } from '../core/errors.ts';
import type { AttemptEffect } from '../executor/executor.ts';
import type { ManifestColumn, ManifestFile } from './manifest.ts';
import { assertDatasetName } from './names.ts';

export const DATASET_VERSION_EFFECT = 'dataset_version';

/** A version written into a staging folder, waiting to be published. */
export interface StagedVersion {
  dataset: string;
  /** Staging folder relative to the datasets root (`.staging/<uuid>`). */
  staging: string;
  rowCount: number;
  bytes: number;
  files: ManifestFile[];
  schema: ManifestColumn[];
  /** Versions read to make it, beyond the task's pinned inlets. */
  reads: { dataset: string; version: number }[];
  /** The new high-water mark of an incremental extract (advanced on commit). */
  watermark: { column: string; value: string } | null;
  gitCommit: string | null;
  codeHash: string;
  dataInterval: { start: string; end: string };
}

/** The `dataset_version` effect for a staged version. */
export function datasetVersionEffect(staged: StagedVersion): AttemptEffect {
  return { kind: DATASET_VERSION_EFFECT, data: staged as unknown as Json };
}

/** Reads a `dataset_version` effect back, checking what the commit relies on. */
export function parseStagedVersion(data: Json): StagedVersion {
  const value = data as unknown as Partial<StagedVersion> | null;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.dataset !== 'string' ||
    typeof value.staging !== 'string' ||
    typeof value.rowCount !== 'number' ||
    !Array.isArray(value.files) ||
    !Array.isArray(value.schema)
  ) {
    throw new UpdraftError('effect_invalid', 'a dataset_version effect is malformed');
  }
  assertDatasetName(value.dataset);
  return value as StagedVersion;
}
