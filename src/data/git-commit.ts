/**
 * The git commit of the folder a pipeline file lives in, for manifests: null when the
 * folder is not in a git work tree or git is not installed. Looked up once per folder
 * per process.
 */
import { execFile } from 'node:child_process';

const cache = new Map<string, Promise<string | null>>();

/** `git rev-parse HEAD` in `dir`, or null. */
export function gitCommitOf(dir: string): Promise<string | null> {
  let found = cache.get(dir);
  if (found === undefined) {
    found = new Promise((resolve) => {
      execFile('git', ['rev-parse', 'HEAD'], { cwd: dir, timeout: 2000 }, (error, stdout) => {
        const commit = stdout.trim();
        resolve(error === null && /^[0-9a-f]{40}$/.test(commit) ? commit : null);
      });
    });
    cache.set(dir, found);
  }
  return found;
}
