import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpecIssue } from '../../src/core/errors.ts';
import type { FileLoadResult } from '../../src/loader/file-load-result.ts';
import { loadPipelines } from '../../src/loader/load-pipelines.ts';
import { FIXTURES, lineOf, tempDir, tempPipelines } from './helpers.ts';

const fixture = (name: string) => path.join(FIXTURES, name);

describe('loadPipelines on the fixture set', () => {
  let results: FileLoadResult[];
  const result = (name: string): FileLoadResult => {
    const found = results.find((r) => r.fileloc === fixture(name));
    if (found === undefined) throw new Error(`no result for ${name}`);
    return found;
  };
  const dagIds = (name: string) => result(name).dags.map((d) => d.spec.dagId);
  const onlyIssue = (name: string): SpecIssue => {
    const { issues, dags } = result(name);
    expect(dags).toEqual([]);
    expect(issues).toHaveLength(1);
    return issues[0] as SpecIssue;
  };

  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'updraft-home-'));
    results = await loadPipelines(FIXTURES, home);
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('returns one result per pipeline file, sorted, skipping nothing it should read', () => {
    expect(results.map((r) => path.relative(FIXTURES, r.fileloc))).toEqual([
      'bad_cron.ts',
      'bad_params.ts',
      'bad_timezone.ts',
      'cycle.ts',
      'daily_sales.ts',
      'duplicate_task.ts',
      'generated.ts',
      'lib/helpers.ts',
      'not_exported.ts',
      'plain_js.mjs',
      'same_id_a.ts',
      'same_id_b.ts',
      'throws.ts',
      'unknown_dep.ts',
      'with_helper.ts',
    ]);
  });

  it('loads every good file, with code and version hashes', () => {
    expect(dagIds('daily_sales.ts')).toEqual(['daily_sales']);
    expect(dagIds('with_helper.ts')).toEqual(['with_helper']);
    expect(dagIds('plain_js.mjs')).toEqual(['plain_js']);
    expect(dagIds('generated.ts')).toEqual(['sync_eu', 'sync_us']);
    expect(dagIds('same_id_a.ts')).toEqual(['same_id']);
    for (const name of ['daily_sales.ts', 'with_helper.ts', 'plain_js.mjs', 'generated.ts']) {
      expect(result(name).issues).toEqual([]);
      expect(result(name).codeHash).toMatch(/^[0-9a-f]{64}$/);
      for (const loaded of result(name).dags) expect(loaded.versionHash).toMatch(/^[0-9a-f]{64}$/);
    }
    const sales = result('daily_sales.ts').dags[0]?.spec;
    expect(sales?.tasks.map((t) => t.taskId)).toEqual([
      'extract',
      'transform.clean',
      'transform.enrich',
      'echo',
    ]);
    expect(sales?.startDate).toBe('2025-12-31T23:00:00.000Z');
  });

  it('accepts a helper module that defines no DAG', () => {
    expect(result('lib/helpers.ts')).toMatchObject({ dags: [], issues: [] });
  });

  it('reports a file whose top-level code throws, at the throwing line', async () => {
    expect(onlyIssue('throws.ts')).toEqual({
      file: fixture('throws.ts'),
      line: await lineOf(fixture('throws.ts'), 'throws-here'),
      column: expect.any(Number),
      message: 'importing the pipeline failed: Error: region is not configured',
      hint: expect.any(String),
    });
  });

  it('reports a cycle with its path, at the first task of the cycle', async () => {
    expect(onlyIssue('cycle.ts')).toMatchObject({
      file: fixture('cycle.ts'),
      line: await lineOf(fixture('cycle.ts'), "d.task('a'"),
      dagId: 'cycle',
      taskId: 'a',
      message: 'dependency cycle: a -> b -> c -> a',
    });
  });

  it('reports a duplicate task id at the second declaration', async () => {
    expect(onlyIssue('duplicate_task.ts')).toMatchObject({
      line: await lineOf(fixture('duplicate_task.ts'), 'second-load'),
      dagId: 'duplicate_task',
      taskId: 'load',
      message: expect.stringContaining("task id 'load' is already used by a task declared at line"),
    });
  });

  it('reports an unknown dependency with a suggestion, at the task', async () => {
    expect(onlyIssue('unknown_dep.ts')).toMatchObject({
      line: await lineOf(fixture('unknown_dep.ts'), "d.task('load'"),
      taskId: 'load',
      field: 'tasks.load.upstream',
      message: "upstream task 'extarct' does not exist in dag 'unknown_dep'",
      hint: "did you mean 'extract'?",
    });
  });

  it('reports a bad cron expression, time zone and params schema, at the dag() call', async () => {
    expect(onlyIssue('bad_cron.ts')).toMatchObject({
      line: await lineOf(fixture('bad_cron.ts'), 'dag('),
      field: 'schedule',
      message: expect.stringContaining("minute field '61' is not valid"),
    });
    expect(onlyIssue('bad_timezone.ts')).toMatchObject({
      field: 'timezone',
      message: expect.stringContaining("unknown time zone 'Europe/Berln'"),
    });
    expect(onlyIssue('bad_params.ts')).toMatchObject({
      field: 'params',
      message: expect.stringContaining('limit'),
    });
  });

  it('gives a DAG id to the first file by path and reports the second', () => {
    expect(onlyIssue('same_id_b.ts')).toEqual({
      file: fixture('same_id_b.ts'),
      dagId: 'same_id',
      message: `dag id 'same_id' is already defined in ${fixture('same_id_a.ts')}`,
      hint: expect.any(String),
    });
  });

  it('reports a DAG that is built but not exported', () => {
    expect(onlyIssue('not_exported.ts')).toMatchObject({
      dagId: 'not_exported',
      message: "dag 'not_exported' is built but not exported, so it is not loaded",
    });
  });
});

describe('loadPipelines on problem files', () => {
  it('reports a syntax error with its line and column, and still loads the rest', async () => {
    const dir = await tempPipelines({
      'broken.ts': "import { dag } from 'updraft';\nconst x = ;\n",
      'good.ts': "import { dag } from 'updraft';\nexport default dag({ id: 'good' }, () => {});\n",
    });
    const [broken, good] = await loadPipelines(dir, await tempDir());
    expect(broken).toEqual({
      fileloc: path.join(dir, 'broken.ts'),
      codeHash: null,
      dags: [],
      issues: [
        { file: path.join(dir, 'broken.ts'), line: 2, column: 11, message: 'Unexpected ";"' },
      ],
    });
    expect(good?.dags.map((d) => d.spec.dagId)).toEqual(['good']);
  });

  it('reports an import of a module that does not exist', async () => {
    const dir = await tempPipelines({
      'missing.ts': "import { x } from './nowhere.ts';\nexport const y = x;\n",
    });
    const [missing] = await loadPipelines(dir, await tempDir());
    expect(missing?.issues).toEqual([
      expect.objectContaining({ line: 1, message: 'Could not resolve "./nowhere.ts"' }),
    ]);
  });

  it('rejects when the pipelines folder does not exist, naming it', async () => {
    const dir = path.join(await tempDir(), 'nope');
    await expect(loadPipelines(dir, await tempDir())).rejects.toThrow(
      `cannot read the pipelines folder ${dir}`,
    );
  });
});
