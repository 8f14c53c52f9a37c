/**
 * The manifest of a dataset version: `manifest.json` in the version folder, and the
 * `manifest` column of its registry row. It tells any reader what the Parquet files
 * hold and where they came from, without the metadata store.
 */
import type { Json } from '../core/dag-spec.ts';

export const MANIFEST_FORMAT = 'updraft.dataset.v1';
export const MANIFEST_FILE = 'manifest.json';

export interface ManifestFile {
  /** File name inside the version folder. */
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface ManifestColumn {
  name: string;
  /** DuckDB type (`BIGINT`, `VARCHAR`, `TIMESTAMP WITH TIME ZONE`, ...). */
  type: string;
  nullable: boolean;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  dataset: string;
  version: number;
  rowCount: number;
  bytes: number;
  files: ManifestFile[];
  schema: ManifestColumn[];
  /**
   * The attempt that wrote it. A quarantine replay names the quality task whose
   * quarantine it replayed, as `<task>:replay` with try 0 (no attempt ran; see `replay`).
   */
  producedBy: {
    dagId: string;
    runId: string;
    taskId: string;
    mapIndex: number;
    tryNumber: number;
  };
  dataInterval: { start: string; end: string };
  code: {
    /** Git commit of the pipeline's folder when it is in a repository. */
    gitCommit: string | null;
    /** Hash of the bundled pipeline code. */
    codeHash: string;
    /** Version hash of the DAG spec the run used. */
    dagVersionHash: string | null;
  };
  /** Versions the producing task read. */
  inputs: { dataset: string; version: number }[];
  /** High-water mark of an incremental extract. */
  watermark: { column: string; value: string } | null;
  createdAt: string;
  /** The latest quality checks of this version (added by the quality layer, issue 5). */
  quality?: ManifestQuality;
  /** Set on the versions a quarantine replay wrote (`updraft quality replay`). */
  replay?: ManifestReplay;
}

/** How a version written by a quarantine replay came about (ADR 17). */
export interface ManifestReplay {
  /** The replay (`quality_replays.id`). */
  id: number;
  /** The quarantine version whose rows were replayed. */
  from: { dataset: string; version: number };
  /** The checked version the rows failed in (null when the store no longer knows). */
  checked: { dataset: string; version: number } | null;
  /** The clean-output version the released rows were added to. */
  base: { dataset: string; version: number };
  /** The fix run on the rows (DuckDB SQL), or null. */
  fix: string | null;
  /** Only the rows these checks quarantined were replayed (null: every row). */
  checks: string[] | null;
  /** Rows taken from the quarantine, released (now passing), kept in quarantine. */
  rows: { replayed: number; released: number; kept: number };
  /** Who replayed them. */
  by: string;
}

/** Summary of the latest quality task that checked a version. */
export interface ManifestQuality {
  checkedAt: string;
  dagId: string;
  runId: string;
  taskId: string;
  counts: { pass: number; warn: number; error: number; skipped: number };
  /** Whether every blocking check passed (null: none ran). */
  blockingPassed: boolean | null;
  checks: { id: string; type: string; status: string; message: string }[];
}

/** The manifest as JSON (for effects and the registry). */
export function manifestJson(manifest: Manifest): Json {
  return manifest as unknown as Json;
}
