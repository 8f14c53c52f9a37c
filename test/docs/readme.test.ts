/**
 * The README's pipeline example is real: it loads without issues and `updraft dags test`
 * runs it to success.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipelines } from '../../src/loader/load-pipelines.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS, type StoreBackend } from '../support/stores.ts';

const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const example = /## Writing a pipeline[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-readme-'));

describe('README pipeline example', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads without issues', async () => {
    expect(example).toBeDefined();
    mkdirSync(path.join(dir, 'pipelines'), { recursive: true });
    writeFileSync(path.join(dir, 'pipelines', 'orders_report.ts'), example ?? '');
    const [file] = await loadPipelines(path.join(dir, 'pipelines'), path.join(dir, 'home'));
    expect(file?.issues).toEqual([]);
    expect(file?.dags.map((d) => d.spec.dagId)).toEqual(['orders_report']);
  });

  it('runs to success with `updraft dags test`', () => {
    const out = execFileSync(
      process.execPath,
      [
        path.join(root, 'bin/updraft.js'),
        'dags',
        'test',
        'orders_report',
        '--date',
        '2026-03-01',
        '--pipelines',
        path.join(dir, 'pipelines'),
        '--home',
        path.join(dir, 'home'),
      ],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/publish\s+success/);
    expect(out).toMatch(/cleanup\s+success/);
  });
});

const mappingExample = /\*\*Mapping at run time\.\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(
  readme,
)?.[1];

describe('README mapping example', () => {
  it('runs one instance per file and hands the list downstream, with `updraft dags test`', () => {
    expect(mappingExample).toBeDefined();
    const pipelines = path.join(dir, 'mapping');
    mkdirSync(pipelines, { recursive: true });
    writeFileSync(path.join(pipelines, 'load_files.ts'), mappingExample ?? '');
    const out = execFileSync(
      process.execPath,
      [
        path.join(root, 'bin/updraft.js'),
        'dags',
        'test',
        'load_files',
        '--json',
        '--pipelines',
        pipelines,
        '--home',
        path.join(dir, 'home'),
      ],
      { encoding: 'utf8' },
    );
    const result = JSON.parse(out) as {
      state: string;
      tasks: { taskId: string; mapIndex: number; result?: unknown }[];
    };
    expect(result.state).toBe('success');
    expect(result.tasks.map((t) => [t.taskId, t.mapIndex])).toEqual([
      ['list_files', -1],
      ['load', 0],
      ['load', 1],
      ['report', -1],
    ]);
    expect(result.tasks.at(-1)?.result).toEqual(['loaded a.csv', 'loaded b.csv']);
  });
});

const branchExample = /\*\*Branching\.\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];

describe('README branching example', () => {
  it('follows the branch plan chose and skips the other, with `updraft dags test`', () => {
    expect(branchExample).toBeDefined();
    const pipelines = path.join(dir, 'branching');
    mkdirSync(pipelines, { recursive: true });
    writeFileSync(path.join(pipelines, 'merge_or_rebuild.ts'), branchExample ?? '');
    const run = (params: string) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            path.join(root, 'bin/updraft.js'),
            'dags',
            'test',
            'merge_or_rebuild',
            '--json',
            '--params',
            params,
            '--pipelines',
            pipelines,
            '--home',
            path.join(dir, 'home'),
          ],
          { encoding: 'utf8' },
        ),
      ) as { state: string; tasks: { taskId: string; state: string; result?: unknown }[] };
    const merged = run('{}');
    expect(merged.state).toBe('success');
    expect(merged.tasks.map((t) => [t.taskId, t.state])).toEqual([
      ['plan', 'success'],
      ['merge', 'success'],
      ['rebuild', 'skipped'],
      ['report', 'success'],
    ]);
    expect(merged.tasks.at(-1)?.result).toEqual({ merge: 'merged the increment' });
    const rebuilt = run('{"fullRefresh": true}');
    expect(rebuilt.tasks.map((t) => [t.taskId, t.state])).toEqual([
      ['plan', 'success'],
      ['merge', 'skipped'],
      ['rebuild', 'success'],
      ['report', 'success'],
    ]);
    expect(rebuilt.tasks.at(-1)?.result).toEqual({ rebuild: 'rebuilt every row' });
  });
});

const triggerExample = /\*\*Triggering another DAG\.\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(
  readme,
)?.[1];
const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite');

describe.runIf(pglite !== undefined)('README trigger_dag example', () => {
  let rt: TestRuntime | undefined;
  afterAll(() => rt?.close());

  it('triggers one run of the other DAG with the rendered reason, and none without changes', async () => {
    expect(triggerExample).toBeDefined();
    rt = await startTestRuntime(pglite as StoreBackend, { 'catalogue.ts': triggerExample ?? '' });
    const ops = rt.runtime.ops;
    await ops.triggerRun('catalogue', { runId: 'c1', logicalDate: '2026-05-01T00:00:00Z' });
    await ops.triggerRun('catalogue', { runId: 'c2', params: { changed: 0 } });
    expect((await rt.waitForRun('catalogue', 'c1', 60_000)).state).toBe('success');
    expect((await rt.waitForRun('catalogue', 'c2', 60_000)).state).toBe('success');
    const child = await rt.waitForRun(
      'embeddings',
      'triggered__catalogue.trigger_embeddings__c1',
      60_000,
    );
    expect((await ops.getTaskInstance('embeddings', child.runId, 'embed')).result).toBe(
      'embedding, because 3 articles changed on 2026-05-01',
    );
    expect((await ops.listRuns('embeddings')).length).toBe(1);
  }, 180_000);
});
