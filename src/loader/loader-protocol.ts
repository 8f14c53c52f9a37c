/**
 * Messages between the loader core and its loader process (IPC, JSON). The parent sends
 * one `import` at a time and waits for its `imported` reply, so a file that hangs or
 * kills the process is known.
 */
import type { SpecIssue } from '../core/errors.ts';
import type { SourceDag } from './pipeline-source.ts';

/** Parent → loader process: import this bundle of this pipeline file. */
export interface ImportRequest {
  type: 'import';
  id: number;
  fileloc: string;
  bundlePath: string;
  /**
   * Import the bundle as a new module instance under this name: the code is the same,
   * but files its DAGs read while being built (SQL models) changed.
   */
  variant?: string;
}

/** Loader process → parent. */
export type LoaderReply =
  /** Sent once, when the process can take requests. */
  | { type: 'ready' }
  /** The outcome of request `id`: the DAGs found, and problems of the file itself. */
  | { type: 'imported'; id: number; dags: SourceDag[]; issues: SpecIssue[] };
