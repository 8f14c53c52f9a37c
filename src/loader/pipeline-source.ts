/**
 * A pipeline source reads one kind of pipeline file (TypeScript/JavaScript, YAML, ...)
 * into DAG specs. The loader core (`pipeline-loader.ts`) finds files, hands each to the
 * source that claims its extension, and does what is common to all: version hashes,
 * dropping invalid DAGs, and one owner per DAG id across files. A new kind of file is a
 * new source in `sources.ts`; the core does not change.
 */
import type { DagSpec } from '../core/dag-spec.ts';
import type { SpecIssue } from '../core/errors.ts';
import type { LoadInput } from '../core/load-inputs.ts';

/** A DAG as a source read it, with every problem found in it (build and validation). */
export interface SourceDag {
  spec: DagSpec;
  /** Problems of this DAG; a DAG with any is not loaded. Located where possible. */
  issues: SpecIssue[];
  /** Files and folders read while building it (SQL models), with digests. */
  inputs?: LoadInput[];
}

/** The load inputs of some DAGs, one per path. */
export function loadInputsOf(dags: readonly SourceDag[]): LoadInput[] {
  const byPath = new Map<string, LoadInput>();
  for (const dag of dags) for (const input of dag.inputs ?? []) byPath.set(input.path, input);
  return [...byPath.values()];
}

/** What a source read from one file. */
export interface SourceFileResult {
  /** Absolute path of the file. */
  fileloc: string;
  /** Hash of the code the DAGs were read from; null when there is none (it did not build). */
  codeHash: string | null;
  /** The DAGs the file defines (none is fine: a helper module). */
  dags: SourceDag[];
  /** Problems of the file as a whole (syntax error, top-level code threw, ...). */
  issues: SpecIssue[];
  /**
   * Absolute paths whose change changes this result: the file, what it imports, and
   * the files and folders its DAGs read while being built.
   */
  inputs: string[];
}

/** Reads one kind of pipeline file. */
export interface PipelineSource {
  /** Short name for messages (`typescript`, `yaml`). */
  readonly name: string;
  /** File name endings it reads, with the dot (`.ts`). The longest matching ending wins. */
  readonly extensions: readonly string[];
  /** Whether a file with one of the extensions is a pipeline (e.g. not `*.d.ts`). */
  accepts(fileloc: string): boolean;
  /**
   * Reads files (absolute paths); one result per file, in the same order. Never rejects
   * because of what a file contains: problems are issues of that file's result.
   */
  load(files: readonly string[]): Promise<SourceFileResult[]>;
  /** Drops what it keeps about a file that was removed. */
  forget(fileloc: string): void;
  /** Releases processes and other resources. */
  close(): Promise<void>;
}
