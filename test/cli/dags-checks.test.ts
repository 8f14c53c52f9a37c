/**
 * `updraft dags validate`, `dags render` and `dags lint` run by the real CLI on pipeline
 * folders: exit codes, findings with file, line, column, path and hint, `--json`,
 * `--strict`, `--env`, and the lint configuration.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import { runCli } from './helpers.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/updraft.js');
const root = mkdtempSync(path.join(os.tmpdir(), 'updraft-dags-checks-'));
let folders = 0;

/** A pipelines folder holding `files`, and the global options that point at it. */
function folder(files: Record<string, string>): { dir: string; args: string[] } {
  const dir = path.join(root, `p${folders++}`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  mkdirSync(dir, { recursive: true });
  return { dir, args: ['--pipelines', dir, '--home', path.join(root, 'home')] };
}

const GOOD = `dags:
  sales:
    owner: sales-team
    tags: [sales]
    tasks:
      extract: { operator: shell, config: { command: "echo \${REGION:-eu}" }, retries: 1 }
      load: { operator: shell, config: { command: load }, upstream: [extract], retries: 1 }
    environments:
      prod:
        schedule: "@daily"
        startDate: "2026-01-01"
`;

const BAD = `dags:
  broken:
    tasks:
      a: { operator: shell, config: { command: x }, upstream: [b] }
      b: { operator: shell, config: { command: x }, upstream: [a], trigger_rule: all_done }
`;

interface JsonFinding {
  file: string;
  line?: number;
  column?: number;
  field?: string;
  message: string;
  hint?: string;
  severity: 'error' | 'warning';
  rule?: string;
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('updraft dags validate', () => {
  it('exits 0 when every file is valid', async () => {
    const { args } = folder({ 'sales.yaml': GOOD });
    const result = await runCli(['dags', 'validate', ...args]);
    expect(result.stdout).toContain('1 file(s), 1 valid DAG(s): 0 error(s), 0 warning(s)');
    expect(result.code).toBe(0);
  });

  it('exits 1 and names file, line, column, path and hint; other files still load', async () => {
    const { dir, args } = folder({ 'sales.yaml': GOOD, 'broken.yaml': BAD });
    const human = await runCli(['dags', 'validate', ...args]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      `✗ ${dir}/broken.yaml:5:68: dag 'broken' field 'dags.broken.tasks.b.trigger_rule': unknown key 'trigger_rule' (did you mean 'triggerRule'?)`,
    );
    expect(human.stdout).toContain('2 file(s), 1 valid DAG(s): 1 error(s)');

    const json = await runCli(['dags', 'validate', '--json', ...args]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout) as JsonFinding[]).toEqual([
      {
        file: `${dir}/broken.yaml`,
        line: 5,
        column: 68,
        dagId: 'broken',
        field: 'dags.broken.tasks.b.trigger_rule',
        message: "unknown key 'trigger_rule'",
        hint: "did you mean 'triggerRule'?",
        severity: 'error',
      },
    ]);
  });

  it('reports the cycle once the keys are right, with the path that closes it', async () => {
    const { dir, args } = folder({ 'broken.yaml': BAD.replace('trigger_rule', 'triggerRule') });
    const result = await runCli(['dags', 'validate', '--json', ...args]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({
        file: `${dir}/broken.yaml`,
        line: 4,
        field: 'dags.broken.tasks.a.upstream',
        message: 'dependency cycle: a -> b -> a',
      }),
    ]);
  });

  it('checks only the files named', async () => {
    const { dir, args } = folder({ 'sales.yaml': GOOD, 'broken.yaml': BAD });
    const result = await runCli(['dags', 'validate', path.join(dir, 'sales.yaml'), ...args]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 file(s), 1 valid DAG(s)');
  });

  it('warns about a missing connection, and fails on it with --strict', async () => {
    const { args } = folder({
      'db.yaml': `dags:\n  db:\n    tasks:\n      q: { operator: shell, config: { command: x, env: { X: "1" } }, pool: default_pool }\n`,
      'sql.yaml':
        'dags:\n  sql:\n    tasks:\n      q:\n        operator: shell\n        config: { command: "psql", env: { connection: warehouse } }\n',
    });
    const loose = await runCli(['dags', 'validate', '--json', ...args]);
    expect(loose.code).toBe(0);
    expect(JSON.parse(loose.stdout)).toEqual([
      expect.objectContaining({
        line: 6,
        field: 'dags.sql.tasks.q.config.env.connection',
        message: "connection 'warehouse' is not defined in this environment",
        hint: 'set UPDRAFT_CONN_WAREHOUSE to its URL where the DAG runs',
        severity: 'warning',
      }),
    ]);
    expect((await runCli(['dags', 'validate', '--strict', ...args])).code).toBe(1);
    const defined = await runCli(['dags', 'validate', '--strict', ...args], {
      UPDRAFT_CONN_WAREHOUSE: 'postgres://localhost/db',
    });
    expect(defined.code).toBe(0);
  });

  it('applies the environment given with --env', async () => {
    const { args } = folder({ 'sales.yaml': GOOD.replace('"@daily"', '"@every-day"') });
    expect((await runCli(['dags', 'validate', ...args])).code).toBe(0);
    const prod = await runCli(['dags', 'validate', '--env', 'prod', ...args]);
    expect(prod.code).toBe(1);
    expect(prod.stdout).toMatch(/sales\.yaml:10:19: dag 'sales' field 'dags\.sales\.schedule'/);
  });
});

describe('updraft dags render', () => {
  it('prints the DAG with templates, defaults and the environment applied', async () => {
    const { args } = folder({ 'sales.yaml': GOOD });
    const result = await runCli(['dags', 'render', 'sales', '--env', 'prod', ...args], {
      REGION: 'us',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('schedule: "@daily"');
    expect(result.stdout).toContain('command: echo us');
    expect(result.stdout).not.toContain('environments');

    const json = await runCli(['dags', 'render', 'sales', '--json', ...args]);
    const body = JSON.parse(json.stdout) as {
      environment: string | null;
      resolved: { schedule?: string };
      spec: { schedule: string | null; tasks: unknown[] };
    };
    expect(body.environment).toBeNull();
    expect(body.resolved.schedule).toBeUndefined();
    expect(body.spec.schedule).toBeNull();
    expect(body.spec.tasks).toHaveLength(2);
  });

  it('names the closest DAG id for an unknown one', async () => {
    const { args } = folder({ 'sales.yaml': GOOD });
    const result = await runCli(['dags', 'render', 'sale', ...args]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no pipeline file defines dag 'sale'; did you mean 'sales'?");
  });
});

describe('updraft dags lint', () => {
  const UNKEMPT = `dags:
  SalesReport:
    tasks:
      Extract: { operator: shell, config: { command: x } }
`;

  it('reports the default rules, with the rule name', async () => {
    const { dir, args } = folder({ 'report.yaml': UNKEMPT });
    const result = await runCli(['dags', 'lint', '--json', ...args]);
    expect(result.code).toBe(1);
    const findings = JSON.parse(result.stdout) as JsonFinding[];
    expect(findings.map((f) => [f.rule, f.severity, f.line])).toEqual([
      ['owner-required', 'error', 3],
      ['retries-set', 'warning', 4],
      ['naming-convention', 'error', 3],
      ['naming-convention', 'error', 4],
      ['tags-required', 'warning', 3],
    ]);
    expect(findings[0]?.file).toBe(`${dir}/report.yaml`);
  });

  it('follows .updraft-lint.yaml', async () => {
    const { args } = folder({
      'report.yaml': UNKEMPT,
      '.updraft-lint.yaml':
        "rules:\n  owner-required: off\n  tags-required: off\n  retries-set: { level: error, min: 2 }\n  naming-convention: { level: warn, dag: '^[A-Z][A-Za-z]*$', task: '^[A-Z][A-Za-z]*$' }\n",
    });
    const result = await runCli(['dags', 'lint', '--json', ...args]);
    const findings = JSON.parse(result.stdout) as JsonFinding[];
    expect(findings.map((f) => [f.rule, f.severity, f.message])).toEqual([
      ['retries-set', 'error', 'task retries 0 time(s), fewer than 2'],
    ]);
    expect(result.code).toBe(1);
  });

  it('refuses an unknown rule, naming the closest', async () => {
    const { args } = folder({
      'report.yaml': UNKEMPT,
      '.updraft-lint.yaml': 'rules:\n  owner-requird: error\n',
    });
    const result = await runCli(['dags', 'lint', ...args]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "unknown lint rule 'owner-requird' (did you mean 'owner-required'?)",
    );
  });
});

describe('updraft dags validate: pools', () => {
  const postgres = STORE_BACKENDS.find((backend) => backend.name === 'postgres');

  /** The CLI with UPDRAFT_DATABASE_URL set (`runCli` clears it on purpose). */
  async function onServer(databaseUrl: string, args: string[]) {
    try {
      const { stdout } = await run(process.execPath, [BIN, ...args], {
        env: { ...process.env, NO_COLOR: '1', UPDRAFT_DATABASE_URL: databaseUrl },
      });
      return { code: 0, stdout };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string };
      return { code: failed.code ?? 1, stdout: failed.stdout ?? '' };
    }
  }

  it.skipIf(postgres === undefined)(
    'checks pools against a reachable store (PostgreSQL)',
    async () => {
      const test = await (postgres as NonNullable<typeof postgres>).open();
      try {
        await test.releaseStore();
        const url = test.databaseUrl ?? '';
        const { args } = folder({
          'io.yaml':
            'dags:\n  io:\n    tasks:\n      a: { operator: shell, config: { command: x }, pool: etl }\n      b: { operator: shell, config: { command: x }, pool: elt }\n',
        });
        expect((await onServer(url, ['pools', 'set', 'etl', '4', ...args])).code).toBe(0);
        const result = await onServer(url, ['dags', 'validate', '--json', ...args]);
        expect(JSON.parse(result.stdout)).toEqual([
          expect.objectContaining({
            line: 5,
            field: 'dags.io.tasks.b.pool',
            message: "pool 'elt' does not exist",
            hint: 'create it: updraft pools set elt <slots>',
            severity: 'warning',
          }),
        ]);
        expect(result.code).toBe(0);
        expect((await onServer(url, ['dags', 'validate', '--strict', ...args])).code).toBe(1);
      } finally {
        await test.close();
      }
    },
    120_000,
  );
});
