/**
 * `updraft datasets`, `connections` and `quality` while `updraft standalone` holds the
 * embedded store, all as real processes: the commands go through its control socket
 * (ADR 19) and print exactly what they print on the store itself (`--json` and tables),
 * alias moves record the OS user as admin, errors read the same, secrets are never
 * printed, a quarantine replay runs in the standalone, and every change is audited.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/auth.ts';
import { systemClock } from '../../src/core/clock.ts';
import { type DataOperations, openDataOperations } from '../../src/data/open-data-operations.ts';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import { openPGliteStore } from '../../src/store/store.ts';
import { type DataHarness, openDataHarness, seedCheckedDatasets } from '../data/support.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type Background, type CliResult, runCli, startCli } from './helpers.ts';

const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite');
const ENV = { UPDRAFT_SECRET_KEY: 'standalone-data-key-0123456789' };
const ME = os.userInfo().username;

/** What the direct path answers, and the command printing it with `--json`. */
type Read = [string[], (ops: DataOperations) => Promise<unknown>];

const READS: Read[] = [
  [['datasets', 'list'], (o) => o.datasets.listDatasets()],
  [['datasets', 'versions', 'sales'], (o) => o.datasets.listVersions('sales', { limit: 100 })],
  [['datasets', 'show', 'sales'], (o) => o.datasets.showVersion('sales')],
  [['datasets', 'lineage', 'sales'], (o) => o.datasets.lineage('sales')],
  [['datasets', 'runs'], (o) => o.datasets.etlRuns({ limit: 50 })],
  [['quality', 'results', 'sales'], (o) => o.quality.latestResults('sales')],
  [
    ['quality', 'history', 'sales', 'row_count'],
    (o) => o.quality.metricHistory('sales', 'row_count'),
  ],
  [
    ['quality', 'replay', 'stock', '--dry-run'],
    (o) => o.quality.replay({ dataset: 'stock', actor: ME, ontoLatest: false, dryRun: true }),
  ],
  [['connections', 'list'], (o) => o.datasets.listConnections()],
];

/** Commands that fail, and the direct call failing the same way. */
const ERRORS: Read[] = [
  [['datasets', 'show', 'sale'], (o) => o.datasets.showVersion('sale')],
  [
    ['datasets', 'promote', 'sales', '1', '--to', 'Bad!'],
    (o) => o.datasets.promote('sales', 1, 'Bad!', { actor: { name: ME, role: 'admin' } }),
  ],
  [['quality', 'results', 'nothing'], (o) => o.quality.latestResults('nothing')],
];

/** Tables, printed by the CLI on the store itself before the standalone starts. */
const TABLES: string[][] = [
  ['datasets', 'list'],
  ['quality', 'results', 'sales', 'v1'],
];

describe.runIf(pglite !== undefined)('data commands while standalone runs', () => {
  let h: DataHarness;
  let args: string[];
  let server: Background | null = null;
  /** `--json` output and error messages of the direct path, by command. */
  const direct = new Map<string, string>();
  const directTables = new Map<string, CliResult>();
  const cli = (...command: string[]) => runCli([...command, ...args], ENV);

  beforeAll(async () => {
    if (pglite === undefined) return;
    h = await openDataHarness(pglite, {
      wrapHooks: (hooks, home) => withQualityHooks(hooks, { home }),
    });
    await seedCheckedDatasets(h, [0, 2, 0], 'success');
    await h.releaseStore();
    const pipelines = path.join(h.home, 'no-pipelines');
    fs.mkdirSync(pipelines);
    args = ['--home', h.home, '--pipelines', pipelines];

    // What the direct path (the store itself, under its lock) answers, in this process.
    const handle = await openDataOperations({
      home: h.home,
      databaseUrl: undefined,
      command: 'test',
    });
    try {
      expect(handle.via).toBe('embedded');
      for (const [command, call] of READS) {
        direct.set(command.join(' '), `${JSON.stringify(await call(handle.value), null, 2)}\n`);
      }
      for (const [command, call] of ERRORS) {
        const error = await call(handle.value).then(
          () => new Error('no error'),
          (e: unknown) => e as Error,
        );
        direct.set(command.join(' '), `error: ${error.message}\n`);
      }
    } finally {
      await handle.close();
    }
    for (const command of TABLES) directTables.set(command.join(' '), await cli(...command));

    server = startCli(['standalone', '--port', '0', '--workers', '1', ...args], ENV);
    await server.waitFor(/Press Ctrl-C to stop/);
  }, 600_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await h?.close();
  });

  it('print through the socket exactly what they print on the store itself', async () => {
    for (const [command] of READS) {
      const remote = await cli(...command, '--json');
      expect({ command, ...remote }).toEqual({
        command,
        code: 0,
        stdout: direct.get(command.join(' ')),
        stderr: '',
      });
    }
    for (const command of TABLES) {
      const expected = directTables.get(command.join(' '));
      expect(expected?.code).toBe(0);
      expect({ command, ...(await cli(...command)) }).toEqual({ command, ...expected });
    }
    for (const [command] of ERRORS) {
      expect({ command, ...(await cli(...command)) }).toEqual({
        command,
        code: 1,
        stdout: '',
        stderr: direct.get(command.join(' ')),
      });
    }
    expect(direct.get('datasets show sale')).toContain("no dataset 'sale' (did you mean 'sales'?)");
    expect(direct.get('datasets promote sales 1 --to Bad!')).toContain(
      "'Bad!' is not a valid alias",
    );
    expect(JSON.parse(direct.get('datasets list') ?? '')).toMatchObject([
      { name: 'sales', latestVersion: 3 },
      { name: 'sales.quarantine' },
      { name: 'stock', latestVersion: 1 },
      { name: 'stock.clean' },
      { name: 'stock.quarantine' },
    ]);
  }, 300_000);

  it('promote and roll back, recording the OS user as admin', async () => {
    expect(
      (await cli('datasets', 'promote', 'sales', 'v1', '--to', 'prod', '--reason', 'first')).stdout,
    ).toBe('sales@prod: (new) → v1\n');
    expect((await cli('datasets', 'promote', 'sales', '3', '--to', 'prod')).stdout).toBe(
      'sales@prod: v1 → v3\n',
    );
    expect(
      (await cli('datasets', 'rollback', 'sales', '--alias', 'prod', '--reason', 'oops')).stdout,
    ).toBe('sales@prod: v3 → v1 (rolled back)\n');
    const history = JSON.parse(
      (await cli('datasets', 'history', 'sales', '--alias', 'prod', '--json')).stdout,
    ) as { action: string; actor: string; actorRole: string; reason: string | null }[];
    expect(history.map((e) => [e.action, e.actor, e.actorRole, e.reason])).toEqual([
      ['rollback', ME, 'admin', 'oops'],
      ['promote', ME, 'admin', null],
      ['promote', ME, 'admin', 'first'],
    ]);
  }, 120_000);

  it('refuse to promote a version that failed its blocking checks', async () => {
    const refused = await cli('datasets', 'promote', 'sales', '2', '--to', 'prod');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('blocking');
  }, 120_000);

  it('add, list and remove a connection without printing its secret', async () => {
    const added = await runCli(
      ['connections', 'add', 'wh', '--description', 'warehouse', ...args],
      ENV,
      'postgres://etl:hunter2@db:5432/x\n',
    );
    expect(added).toEqual({
      code: 0,
      stdout: 'stored connection wh (postgres): postgres://etl:***@db:5432/x\n',
      stderr: '',
    });
    const listed = await cli('connections', 'list');
    expect(listed.stdout).toMatch(
      /^wh +postgres +store +postgres:\/\/etl:\*\*\*@db:5432\/x +warehouse/m,
    );
    expect(listed.stdout + listed.stderr).not.toContain('hunter2');
    expect((await cli('connections', 'remove', 'wh')).stdout).toBe('removed connection wh\n');
    expect(JSON.parse((await cli('connections', 'list', '--json')).stdout)).toEqual([]);
  }, 120_000);

  it('replay quarantined rows in the standalone', async () => {
    const done = await cli(
      'quality',
      'replay',
      'stock',
      '--fix',
      'update quarantined set v = 0 where v is null',
      '--json',
    );
    expect(done.stderr).toBe('');
    expect(JSON.parse(done.stdout)).toMatchObject({
      rows: { quarantined: 2, replayed: 2, released: 2, kept: 0 },
      output: { dataset: 'stock.clean', version: 2 },
    });
    const versions = JSON.parse(
      (await cli('datasets', 'versions', 'stock.clean', '--json')).stdout,
    );
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  }, 300_000);

  it('leave every change in the audit log, without secrets, once the standalone stops', async () => {
    expect(await server?.stop('SIGINT')).toBe(0);
    server = null;
    const store = await openPGliteStore(path.join(h.home, 'db'));
    try {
      // The standalone's own records (the first admin it created) are not the commands'.
      const records = (await createAuth(store, systemClock).audit.list()).filter(
        (r) => r.via === 'cli',
      );
      expect(
        records.map((r) => [r.action, r.target, r.username, r.via, r.ip, r.outcome]).reverse(),
      ).toEqual([
        ['quality.replay', 'stock', ME, 'cli', 'control socket', 'ok'], // the dry run
        ['dataset.promote', 'sales', ME, 'cli', 'control socket', 'dataset_alias_invalid'],
        ['dataset.promote', 'sales', ME, 'cli', 'control socket', 'ok'],
        ['dataset.promote', 'sales', ME, 'cli', 'control socket', 'ok'],
        ['dataset.rollback', 'sales', ME, 'cli', 'control socket', 'ok'],
        ['dataset.promote', 'sales', ME, 'cli', 'control socket', 'promotion_refused'],
        ['connection.put', 'wh', ME, 'cli', 'control socket', 'ok'],
        ['connection.delete', 'wh', ME, 'cli', 'control socket', 'ok'],
        ['quality.replay', 'stock', ME, 'cli', 'control socket', 'ok'],
      ]);
      expect(JSON.stringify(records)).not.toContain('hunter2');
    } finally {
      await store.close();
    }
  }, 120_000);
});
