import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/helpers.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type DataHarness, openDataHarness } from './support.ts';

const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite');

describe.runIf(pglite !== undefined)('updraft datasets and connections', () => {
  let h: DataHarness;
  let args: string[];
  beforeAll(async () => {
    if (pglite === undefined) return;
    h = await openDataHarness(pglite);
    const run = { runPk: await h.createRun('seed', 's1'), dagId: 'seed', runId: 's1' };
    for (let i = 1; i <= 3; i++) {
      await h.runTask(run, {
        taskId: 'w',
        operator: 'duckdb',
        config: { query: `select ${i} as gen`, output: 'sales' },
      });
    }
    // The CLI opens the embedded store itself (one process at a time).
    await h.releaseStore();
    args = ['--home', h.home];
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists, promotes, rolls back and shows the history', async () => {
    const list = await runCli([...args, 'datasets', 'list', '--json']);
    expect(list.stderr).toBe('');
    expect(JSON.parse(list.stdout)).toMatchObject([
      { name: 'sales', latestVersion: 3, versions: 3, aliases: { latest: 3 } },
    ]);
    expect(
      (
        await runCli([
          ...args,
          'datasets',
          'promote',
          'sales',
          'v1',
          '--to',
          'prod',
          '--reason',
          'first',
        ])
      ).stdout,
    ).toBe('sales@prod: (new) → v1\n');
    expect(
      (await runCli([...args, 'datasets', 'promote', 'sales', '2', '--to', 'prod'])).stdout,
    ).toBe('sales@prod: v1 → v2\n');
    expect(
      (
        await runCli([
          ...args,
          'datasets',
          'rollback',
          'sales',
          '--alias',
          'prod',
          '--reason',
          'oops',
        ])
      ).stdout,
    ).toBe('sales@prod: v2 → v1 (rolled back)\n');
    const history = JSON.parse(
      (await runCli([...args, 'datasets', 'history', 'sales', '--alias', 'prod', '--json'])).stdout,
    );
    expect(
      history.map((e: { action: string; reason: string | null }) => `${e.action}:${e.reason}`),
    ).toEqual(['rollback:oops', 'promote:null', 'promote:first']);
    const show = await runCli([...args, 'datasets', 'show', 'sales@prod']);
    expect(show.stdout).toContain('sales v1 (prod)');
    expect(show.stdout).toContain('    gen  INTEGER');
    const vacuum = JSON.parse(
      (await runCli([...args, 'datasets', 'vacuum', '--keep-last', '1', '--dry-run', '--json']))
        .stdout,
    );
    expect(vacuum.removedVersions.map((v: { version: number }) => v.version)).toEqual([2]);
    expect(vacuum.protectedVersions).toEqual([
      { dataset: 'sales', version: 1, why: "alias 'prod'" },
    ]);
  }, 180_000);

  it('refuses bad input with exit code 1 and a clear message', async () => {
    const badName = await runCli([...args, 'datasets', 'versions', '../etc']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain("'../etc' is not a valid dataset name");
    const latest = await runCli([...args, 'datasets', 'promote', 'sales', '1', '--to', 'latest']);
    expect(latest.code).toBe(1);
    expect(latest.stderr).toContain(
      "alias 'latest' of 'sales' moves only when a version is committed",
    );
    const missing = await runCli([...args, 'datasets', 'show', 'sale']);
    expect(missing.stderr).toContain("no dataset 'sale' (did you mean 'sales'?)");
    const noKey = await runCli([...args, 'connections', 'add', 'wh', 'postgres://u:hunter2@db/x']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('set UPDRAFT_SECRET_KEY');
    expect(noKey.stderr).not.toContain('hunter2');
  }, 120_000);

  it('stores a connection from standard input and lists it redacted', async () => {
    const env = { UPDRAFT_SECRET_KEY: 'cli-test-key-0123456789' };
    const { spawn } = await import('node:child_process');
    const added = await new Promise<string>((resolve) => {
      const child = spawn(
        process.execPath,
        ['bin/updraft.js', ...args, 'connections', 'add', 'wh', '--description', 'warehouse'],
        {
          env: { ...process.env, ...env },
          cwd: new URL('../..', import.meta.url),
        },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.on('close', () => resolve(out));
      child.stdin.end('postgres://etl:hunter2@db:5432/x\n');
    });
    expect(added).toBe('stored connection wh (postgres): postgres://etl:***@db:5432/x\n');
    const listed = await runCli([...args, 'connections', 'list'], env);
    expect(listed.stdout).toContain('postgres://etl:***@db:5432/x');
    expect(listed.stdout).not.toContain('hunter2');
  }, 60_000);
});
