/**
 * `updraft dags import-errors` gates CI: exit 1 with file, line and field when a
 * pipeline file is bad, exit 0 when all load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const home = mkdtempSync(path.join(os.tmpdir(), 'updraft-import-errors-'));

function importErrors(pipelines: string, storeHome: string, ...args: string[]) {
  return spawnSync(
    process.execPath,
    [
      path.join(root, 'bin/updraft.js'),
      'dags',
      'import-errors',
      '--pipelines',
      pipelines,
      '--home',
      path.join(home, storeHome),
      ...args,
    ],
    { encoding: 'utf8' },
  );
}

describe('updraft dags import-errors', () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('exits 1 and names file, line, DAG, task and field for each bad file', () => {
    const result = importErrors(path.join(root, 'test/fixtures/pipelines'), 'a', '--json');
    expect(result.status).toBe(1);
    const errors = JSON.parse(result.stdout) as {
      fileloc: string;
      issues: {
        line?: number;
        dagId?: string;
        taskId?: string;
        field?: string;
        message: string;
        hint?: string;
      }[];
    }[];
    const byFile = Object.fromEntries(errors.map((e) => [path.basename(e.fileloc), e.issues[0]]));
    expect(byFile['unknown_dep.ts']).toMatchObject({
      dagId: 'unknown_dep',
      taskId: 'load',
      field: 'tasks.load.upstream',
      line: 5,
    });
    expect(byFile['unknown_dep.ts']?.hint).toBe("did you mean 'extract'?");
    expect(byFile['cycle.ts']?.message).toContain('a -> b -> c -> a');
    expect(byFile['bad_cron.ts']).toMatchObject({ dagId: 'bad_cron', field: 'schedule' });
    expect(byFile['throws.ts']?.message).toContain('region is not configured');
  });

  it('exits 0 for the repository pipelines', () => {
    const result = importErrors(path.join(root, 'pipelines'), 'b');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('forgets the errors of files that are gone', () => {
    expect(importErrors(path.join(root, 'test/fixtures/pipelines'), 'c').status).toBe(1);
    const result = importErrors(path.join(root, 'pipelines'), 'c');
    expect(result.stdout).toContain('no import errors');
    expect(result.status).toBe(0);
  });
});
