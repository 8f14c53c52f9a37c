/** `updraft quality results` and `updraft quality history` on the embedded store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import { runCli } from '../cli/helpers.ts';
import { type DataHarness, openDataHarness } from '../data/support.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite');

describe.runIf(pglite !== undefined)('updraft quality', () => {
  let h: DataHarness;
  let args: string[];
  beforeAll(async () => {
    if (pglite === undefined) return;
    h = await openDataHarness(pglite, {
      wrapHooks: (hooks, home) => withQualityHooks(hooks, { home }),
    });
    const run = { runPk: await h.createRun('etl', 'r1'), dagId: 'etl', runId: 'r1' };
    for (const bad of [0, 2]) {
      await h.runTask(run, {
        taskId: 'w',
        operator: 'duckdb',
        config: {
          query: `select range as id, case when range < ${bad} then null else range end as v from range(10)`,
          output: 'sales',
        },
      });
      await h.runTask(run, {
        taskId: `q${bad}`,
        operator: 'quality',
        inlets: ['sales'],
        config: {
          checks: [
            { type: 'not_null', column: 'v', blocking: true },
            { type: 'unique', column: 'id' },
          ],
        } as never,
      });
    }
    await h.releaseStore();
    args = ['--home', h.home];
  });
  afterAll(async () => {
    await h?.close();
  });

  it('prints the latest results, every result, and the metric history', async () => {
    const latest = await runCli([...args, 'quality', 'results', 'sales', '--json']);
    expect(latest.stderr).toBe('');
    expect(JSON.parse(latest.stdout)).toMatchObject([
      { version: 2, checkId: 'not_null.v', status: 'error', failingRows: 2, runId: 'r1' },
      { version: 2, checkId: 'unique.id', status: 'pass' },
    ]);
    const first = await runCli([...args, 'quality', 'results', 'sales', 'v1']);
    expect(first.stdout).toMatch(/v1\s+not_null\.v\s+not_null\s+pass\s+yes/);
    const errors = await runCli([
      ...args,
      'quality',
      'results',
      'sales',
      '--all',
      '--status',
      'error',
      '--json',
    ]);
    expect(JSON.parse(errors.stdout).map((r: { version: number }) => r.version)).toEqual([2]);
    const history = await runCli([...args, 'quality', 'history', 'sales', 'row_count', '--json']);
    expect(JSON.parse(history.stdout).map((p: { value: number }) => p.value)).toEqual([10, 10]);
    const bad = await runCli([...args, 'quality', 'results', 'sales', '--status', 'broken']);
    expect(bad.stderr).toContain("unknown status 'broken'");
    const none = await runCli([...args, 'quality', 'results', 'nothing']);
    expect(none.stderr).toContain("no quality results for dataset 'nothing'");
  }, 180_000);
});
