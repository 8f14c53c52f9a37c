/**
 * `updraft quality results`, `updraft quality history` and `updraft quality replay` on the
 * embedded store.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import { runCli } from '../cli/helpers.ts';
import {
  type DataHarness,
  openDataHarness,
  readVersionRows,
  seedCheckedDatasets,
} from '../data/support.ts';
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
    await seedCheckedDatasets(h, [0, 2]);
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

  it('replays quarantined rows: a dry run, bad input, a fix from a file, and a second try refused', async () => {
    const dry = await runCli([...args, 'quality', 'replay', 'stock', '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toContain('stock.quarantine v1: dry run, nothing written');
    expect(dry.stdout).toContain('2 quarantined; 2 replayed: 0 pass, 2 stay quarantined');
    expect(dry.stdout).toContain('(still failing not_null.v: 2)');

    const missing = await runCli([...args, 'quality', 'replay', 'nothing']);
    expect([missing.code, missing.stderr.trim()]).toEqual([
      1,
      "error: no dataset 'nothing': datasets appear when a task first writes them",
    ]);
    const old = await runCli([...args, 'quality', 'replay', 'sales']);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain("the rows of sales.quarantine v1 never left 'sales'");
    const syntax = await runCli([
      ...args,
      'quality',
      'replay',
      'stock',
      '--fix',
      'updat quarantined set v = 0',
    ]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain(
      "--fix failed on table 'quarantined', nothing was written: DuckDB error: Parser Error",
    );
    const both = await runCli([
      ...args,
      'quality',
      'replay',
      'stock',
      '--fix',
      'x',
      '--fix-file',
      'y',
    ]);
    expect([both.code, both.stderr.trim()]).toEqual([
      2,
      'error: give --fix or --fix-file, not both',
    ]);

    const file = path.join(h.home, 'fix.sql');
    writeFileSync(file, '-- nulls were zeros\nupdate quarantined set v = 0 where v is null;\n');
    const done = await runCli([
      ...args,
      'quality',
      'replay',
      'stock',
      '--fix-file',
      file,
      '--json',
    ]);
    expect(done.stderr).toBe('');
    expect(JSON.parse(done.stdout)).toMatchObject({
      rows: { quarantined: 2, replayed: 2, released: 2, kept: 0 },
      output: { dataset: 'stock.clean', version: 2 },
      remainder: null,
    });
    const clean = path.join(h.datasetsRoot, 'stock.clean', 'v2');
    expect((await readVersionRows(clean, 'id')).map((r) => r.v)).toEqual([
      0, 0, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const again = await runCli([...args, 'quality', 'replay', 'stock']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /stock.quarantine v1 was replayed already \(replay \d+ by .*: 2 rows into stock.clean v2, none left in quarantine\)/,
    );
  }, 300_000);
});
