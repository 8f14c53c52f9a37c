/**
 * What the loader reports for each pipeline file, and the rules common to every kind of
 * file: a DAG with any issue is not loaded (its issues are reported with the file), each
 * loaded DAG gets a version hash, and a DAG id belongs to one file only.
 */
import type { DagSpec } from '../core/dag-spec.ts';
import type { SpecIssue } from '../core/errors.ts';
import type { SourceFileResult } from './pipeline-source.ts';
import { dagVersionHash } from './version-hash.ts';

/** A DAG ready to be stored and scheduled. */
export interface LoadedDag {
  spec: DagSpec;
  /** sha256 of the spec's canonical JSON and the code hash (see `dagVersionHash`). */
  versionHash: string;
}

/** The outcome of loading one pipeline file. */
export interface FileLoadResult {
  /** Absolute path of the file. */
  fileloc: string;
  /** Hash of the code the DAGs come from; null when the file did not build. */
  codeHash: string | null;
  /** The valid DAGs the file defines, in the order it exports them. */
  dags: LoadedDag[];
  /** Every problem found in the file and its DAGs; empty when all is well. */
  issues: SpecIssue[];
}

/** Keeps the DAGs without issues and hashes them; the issues of the others go to the file. */
export function toFileLoadResult(source: SourceFileResult): FileLoadResult {
  const dags: LoadedDag[] = [];
  const issues = [...source.issues];
  for (const dag of source.dags) {
    if (dag.issues.length > 0 || source.codeHash === null) {
      issues.push(...dag.issues);
      continue;
    }
    dags.push({ spec: dag.spec, versionHash: dagVersionHash(dag.spec, source.codeHash) });
  }
  return { fileloc: source.fileloc, codeHash: source.codeHash, dags, issues };
}

/**
 * Gives every DAG id to one file: the first by path keeps it, and each later file that
 * defines the same id loses that DAG and gets an issue naming the first. Returns the
 * results sorted by path.
 */
export function assignDagIds(results: Iterable<FileLoadResult>): FileLoadResult[] {
  const sorted = [...results].sort((a, b) =>
    a.fileloc < b.fileloc ? -1 : a.fileloc > b.fileloc ? 1 : 0,
  );
  const owners = new Map<string, string>();
  return sorted.map((result) => {
    const dags: LoadedDag[] = [];
    const issues = [...result.issues];
    for (const dag of result.dags) {
      const owner = owners.get(dag.spec.dagId);
      if (owner === undefined) {
        owners.set(dag.spec.dagId, result.fileloc);
        dags.push(dag);
        continue;
      }
      issues.push({
        file: result.fileloc,
        dagId: dag.spec.dagId,
        message: `dag id '${dag.spec.dagId}' is already defined in ${owner}`,
        hint: 'rename one of the two DAGs; the file that comes first by path keeps the id',
      });
    }
    return dags.length === result.dags.length ? result : { ...result, dags, issues };
  });
}

/** Whether strict loading is on by default: `UPDRAFT_STRICT_PIPELINES=true`. */
export function strictPipelinesByDefault(): boolean {
  return process.env.UPDRAFT_STRICT_PIPELINES === 'true';
}

/**
 * Strict loading: when any file has an issue, no DAG of any file is loaded, and every
 * file that had DAGs says why. (Without it, a bad file loses only its own DAGs.)
 */
export function failAllOnIssues(results: FileLoadResult[]): FileLoadResult[] {
  const bad = results.filter((result) => result.issues.length > 0).map((r) => r.fileloc);
  if (bad.length === 0) return results;
  const shown = bad.slice(0, 3).join(', ') + (bad.length > 3 ? ` and ${bad.length - 3} more` : '');
  return results.map((result) =>
    result.dags.length === 0
      ? result
      : {
          ...result,
          dags: [],
          issues: [
            ...result.issues,
            {
              file: result.fileloc,
              message: `not loaded: strict loading is on and ${shown} ${bad.length === 1 ? 'has' : 'have'} errors`,
              hint: 'fix those files, or unset UPDRAFT_STRICT_PIPELINES to load the valid files',
            },
          ],
        },
  );
}
