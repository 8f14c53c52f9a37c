/**
 * Load inputs: files and folders a pipeline reads while its DAGs are built (the `.sql`
 * files of `sql_models`), beyond the pipeline file and its imports. Each is recorded with
 * a digest of what was read, so the loader knows when to build the DAGs again: a changed
 * model changes the DAG's spec, hence its version.
 *
 * - a file's digest is the sha256 of its content;
 * - a folder's digest is the sha256 of its sorted entry names (sub-folders end in `/`),
 *   so adding, removing or renaming an entry changes it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';

/** The digest of a path that does not exist. */
export const MISSING = 'missing';

/** A file or folder read while building, with the digest of what was read. */
export interface LoadInput {
  /** Absolute path. */
  path: string;
  digest: string;
}

/** The digest of a file's content. */
export function contentDigest(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The entry names of a folder as its digest uses them (sorted, sub-folders with `/`). */
export function folderEntries(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
    .sort();
}

/** The digest of a folder listed by `folderEntries`. */
export function folderDigest(entries: readonly string[]): string {
  return contentDigest(entries.join('\n'));
}

/** The digest `path` has now: of a file, of a folder, or `missing`. */
export function currentDigest(path: string): string {
  try {
    return statSync(path).isDirectory()
      ? folderDigest(folderEntries(path))
      : contentDigest(readFileSync(path));
  } catch {
    return MISSING;
  }
}

/** Whether every input still has the digest recorded when it was read. */
export function inputsUnchanged(inputs: readonly LoadInput[]): boolean {
  return inputs.every((input) => currentDigest(input.path) === input.digest);
}
