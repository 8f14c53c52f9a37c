/**
 * Usage errors through the real CLI: exit code 2 and one clear line on stderr, before
 * any store is opened.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, runCli, type Workspace } from './helpers.ts';

let ws: Workspace;

beforeAll(() => {
  ws = createWorkspace();
});

afterAll(() => ws.remove());

describe('usage errors exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown command', ['bogus'], /unknown command 'bogus'/],
    ['a misspelt command', ['dags', 'lst'], /unknown command 'lst'[\s\S]*Did you mean list\?/],
    ['an unknown option', ['dags', 'list', '--bogus'], /unknown option '--bogus'/],
    ['a missing argument', ['dags', 'trigger'], /missing required argument 'dag'/],
    [
      'a malformed count',
      ['dags', 'next-runs', 'x', '--count', 'zero'],
      /expected a whole number >= 1, got 'zero'/,
    ],
    [
      'a missing --to',
      ['dags', 'backfill', 'x', '--from', '2024-01-01'],
      /required option '--to <iso>' not specified/,
    ],
    [
      'a malformed date',
      ['dags', 'backfill', 'x', '--from', 'yesterday', '--to', '2024-01-02'],
      /expected an ISO 8601 date/,
    ],
    [
      'a bad --reprocess',
      [
        'dags',
        'backfill',
        'x',
        '--from',
        '2024-01-01',
        '--to',
        '2024-01-02',
        '--reprocess',
        'some',
      ],
      /expected one of none, failed, all, got 'some'/,
    ],
    ['a bad state', ['runs', 'mark', 'd', 'r', 'maybe'], /Allowed choices are success, failed/],
    [
      'clear without --yes off a terminal',
      ['tasks', 'clear', 'd', 'r', 't'],
      /Add --yes to confirm/,
    ],
    ['a group without a command', ['dags'], /Usage: updraft dags/],
  ];
  for (const [what, args, message] of cases) {
    it(`for ${what}`, async () => {
      const { code, stderr } = await runCli([...args, ...ws.args]);
      expect(stderr).toMatch(message);
      expect(code).toBe(2);
    });
  }

  it('without opening or creating the home folder', () => {
    expect(fs.existsSync(ws.home)).toBe(false);
  });
});

describe('help and version exit 0', () => {
  it('--help lists the command groups', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const group of ['standalone', 'scheduler', 'db', 'dags', 'runs', 'tasks', 'pools']) {
      expect(stdout).toMatch(new RegExp(`^ {2}${group}\\b`, 'm'));
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(pkg.version);
  });
});
