/**
 * Effects: what an attempt asks to publish when its success is committed. A worker
 * cannot touch the metadata store, so an operator that wrote a version into a staging
 * folder reports it with `ctx.addEffect({ kind: 'dataset_version', data })`; the effect
 * travels with the success event, and the scheduler hands it to the data layer's
 * `commitEffects` hook inside the transaction that records the success.
 *
 * - `dataset_version`: a staged version to publish (`StagedVersion`);
 * - `alias_promotion`: an alias to move to a version (`AliasPromotion`), under the
 *   alias's promotion policy, by the `promote` operator;
 * - `dataset_retention`: retention to apply to a dataset's versions (`RetentionRequest`),
 *   and `version_compaction`: a version's files rewritten into a staging folder, to
 *   swap in (`StagedCompaction`), both by the `maintain` operator.
 */
import type { Json } from '../core/dag-spec.ts';
import { UpdraftError } from '../core/errors.ts';
import type { AttemptEffect } from '../executor/executor.ts';
import type { Manifest, ManifestColumn, ManifestFile } from './manifest.ts';
import { assertAliasName, assertDatasetName } from './names.ts';

export const DATASET_VERSION_EFFECT = 'dataset_version';
export const ALIAS_PROMOTION_EFFECT = 'alias_promotion';
export const DATASET_RETENTION_EFFECT = 'dataset_retention';
export const VERSION_COMPACTION_EFFECT = 'version_compaction';

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

/** An alias move asked for by a task: `alias` of `dataset` to `version`. */
export interface AliasPromotion {
  dataset: string;
  version: number;
  alias: string;
  reason: string;
}

/** The `alias_promotion` effect. */
export function aliasPromotionEffect(promotion: AliasPromotion): AttemptEffect {
  return { kind: ALIAS_PROMOTION_EFFECT, data: promotion as unknown as Json };
}

/** Reads an `alias_promotion` effect back, checking names and version. */
export function parseAliasPromotion(data: Json): AliasPromotion {
  const value = data as unknown as Partial<AliasPromotion> | null;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.dataset !== 'string' ||
    typeof value.alias !== 'string' ||
    typeof value.reason !== 'string' ||
    !Number.isSafeInteger(value.version) ||
    (value.version ?? 0) < 1
  ) {
    throw new UpdraftError('effect_invalid', 'an alias_promotion effect is malformed');
  }
  assertDatasetName(value.dataset);
  assertAliasName(value.alias);
  return value as AliasPromotion;
}

/**
 * Retention asked for by a task: retire the versions of `dataset` beyond the last
 * `keepLast` (and older than `keepDays`), and remove the files of versions retired at
 * least `removeAfterMinutes` ago (see `pipeline-maintenance.ts`).
 */
export interface RetentionRequest {
  dataset: string;
  keepLast: number;
  keepDays: number | null;
  removeAfterMinutes: number;
}

/** The `dataset_retention` effect. */
export function retentionEffect(request: RetentionRequest): AttemptEffect {
  return { kind: DATASET_RETENTION_EFFECT, data: request as unknown as Json };
}

/** Reads a `dataset_retention` effect back, checking the name and the numbers. */
export function parseRetentionRequest(data: Json): RetentionRequest {
  const value = data as unknown as Partial<RetentionRequest> | null;
  const nonNegative = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.dataset !== 'string' ||
    !Number.isSafeInteger(value.keepLast) ||
    (value.keepLast ?? 0) < 1 ||
    !(value.keepDays === null || nonNegative(value.keepDays)) ||
    !nonNegative(value.removeAfterMinutes)
  ) {
    throw new UpdraftError('effect_invalid', 'a dataset_retention effect is malformed');
  }
  assertDatasetName(value.dataset);
  return value as RetentionRequest;
}

/** A version's files rewritten into fewer in a staging folder, to swap in for `fromPath`. */
export interface StagedCompaction {
  dataset: string;
  version: number;
  /** The version's folder when the worker read it (the swap is fenced on it). */
  fromPath: string;
  /** Staging folder relative to the datasets root (`.staging/<uuid>`). */
  staging: string;
  /** The version's manifest with the new files. */
  manifest: Manifest;
}

/** The `version_compaction` effect. */
export function compactionEffect(compaction: StagedCompaction): AttemptEffect {
  return { kind: VERSION_COMPACTION_EFFECT, data: compaction as unknown as Json };
}

/** Reads a `version_compaction` effect back, checking what the swap relies on. */
export function parseStagedCompaction(data: Json): StagedCompaction {
  const value = data as unknown as Partial<StagedCompaction> | null;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.dataset !== 'string' ||
    !Number.isSafeInteger(value.version) ||
    typeof value.fromPath !== 'string' ||
    typeof value.staging !== 'string' ||
    typeof value.manifest !== 'object' ||
    value.manifest === null ||
    !Array.isArray(value.manifest.files)
  ) {
    throw new UpdraftError('effect_invalid', 'a version_compaction effect is malformed');
  }
  assertDatasetName(value.dataset);
  return value as StagedCompaction;
}
