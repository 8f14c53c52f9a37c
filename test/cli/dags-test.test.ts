/**
 * `updraft dags test` through the real CLI on fixture pipelines: the run, its exit code,
 * its JSON shape, and bad input (params JSON, params schema, unknown DAG).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DagTestResult } from '../../src/testing/dag-test.ts';
import { createWorkspace, runCli as runAnyCli, type Workspace } from './helpers.ts';

let ws: Workspace;

/** The CLI with its temp folder (where `dags test` writes its logs) in the workspace. */
function runCli(args: string[]) {
  return runAnyCli(args, { TMPDIR: ws.root });
}

beforeAll(() => {
  ws = createWorkspace();
});

afterAll(() => ws.remove());

describe('updraft dags test', () => {
  it('runs every task in order, retries at once, passes results, and exits 0', async () => {
    const { code, stdout, stderr } = await runCli([
      'dags',
      'test',
      'hello',
      ...ws.args,
      '--date',
      '2024-03-05T02:00:00Z',
      '--params',
      '{"name": "updraft", "times": 2}',
      '--json',
    ]);
    expect(stderr).toContain('greeting name=updraft');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as DagTestResult;
    expect(result).toMatchObject({
      dagId: 'hello',
      state: 'success',
      logicalDate: '2024-03-05T02:00:00.000Z',
      // The date is a tick of '0 2 * * *': the run gets that day's interval.
      dataIntervalStart: '2024-03-05T02:00:00.000Z',
      dataIntervalEnd: '2024-03-06T02:00:00.000Z',
      params: { name: 'updraft', times: 2 },
    });
    expect(result.tasks.map((t) => [t.taskId, t.state, t.tries])).toEqual([
      ['greet', 'success', 1],
      ['flaky', 'success', 2],
      ['shout', 'success', 1],
      ['echo', 'success', 1],
    ]);
    expect(result.tasks.find((t) => t.taskId === 'shout')?.result).toBe('HELLO UPDRAFT x2');
    // Logs of every try, in a scratch folder.
    expect(result.logsDir.startsWith(ws.root)).toBe(true);
    const flaky = result.tasks.find((t) => t.taskId === 'flaky');
    expect(flaky?.logPath).toBe(`${result.logsDir}/flaky/attempt=2.log`);
    expect(fs.readFileSync(`${result.logsDir}/flaky/attempt=1.log`, 'utf8')).toContain(
      'try 1 fails',
    );
  });

  it('prints the logs and a summary table for people', async () => {
    const { code, stdout } = await runCli(['dags', 'test', 'hello', ...ws.args]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^echo .* INFO {2}\d{4}-\d\d-\d\d world stream=stdout$/m);
    expect(stdout).toMatch(/^TASK +STATE +TRIES +DURATION +ERROR$/m);
    expect(stdout).toMatch(/^flaky +success +2 /m);
    expect(stdout).toMatch(/^hello success in /m);
  });

  it('exits 1 when a task fails, marking its downstream upstream_failed', async () => {
    const { code, stdout } = await runCli(['dags', 'test', 'broken', ...ws.args, '--json']);
    expect(code).toBe(1);
    const result = JSON.parse(stdout) as DagTestResult;
    expect(result.state).toBe('failed');
    expect(result.tasks.map((t) => [t.taskId, t.state, t.tries, t.error])).toEqual([
      // TaskFailure with retry: false is not retried although retries is 3.
      ['boom', 'failed', 1, 'nothing to load'],
      ['after', 'upstream_failed', 0, null],
      ['cleanup', 'success', 1, null],
    ]);
  });

  it('refuses --params that is not JSON, with the position, exit 1', async () => {
    const { code, stdout, stderr } = await runCli([
      'dags',
      'test',
      'hello',
      ...ws.args,
      '--params',
      '{"times": 2,}',
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toMatch(
      /^error: --params is not valid JSON: .* at position 12 \(line 1, column 13\)/,
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses params that fail the schema, naming the field, exit 1', async () => {
    const { code, stderr } = await runCli([
      'dags',
      'test',
      'hello',
      ...ws.args,
      '--params',
      '{"times": 0}',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: dag 'hello': param 'times': /);
  });

  it('names the DAGs it found when the DAG does not exist, exit 1', async () => {
    const { code, stderr } = await runCli(['dags', 'test', 'helo', ...ws.args]);
    expect(code).toBe(1);
    expect(stderr).toContain("defines dag 'helo'; DAGs found: broken, hello, quick");
  });

  it('follows a branch task: the tasks it did not choose are skipped, a bad choice fails', async () => {
    fs.writeFileSync(
      `${ws.pipelines}/branchy.yaml`,
      [
        'dags:',
        '  branchy:',
        '    params: { type: object, properties: { way: { type: string, default: left } } }',
        '    tasks:',
        '      choose:',
        '        operator: shell',
        '        branch: true',
        '        config: { command: "echo {{ params.way }}", returnOutput: last_line }',
        '      left: { operator: shell, upstream: [choose], config: { command: "true" } }',
        '      right: { operator: shell, upstream: [choose], config: { command: "true" } }',
        '      join:',
        '        operator: shell',
        '        upstream: [left, right]',
        '        triggerRule: none_failed_min_one_success',
        '        config: { command: "true" }',
        '',
      ].join('\n'),
    );
    const branchy = (params: string) =>
      runCli(['dags', 'test', 'branchy', ...ws.args, '--json', '--params', params]);
    const right = await branchy('{"way": "right"}');
    expect(right.code).toBe(0);
    const result = JSON.parse(right.stdout) as DagTestResult;
    expect(result.tasks.map((t) => [t.taskId, t.state])).toEqual([
      ['choose', 'success'],
      ['left', 'skipped'],
      ['right', 'success'],
      ['join', 'success'],
    ]);
    const bad = await branchy('{"way": "middle"}');
    expect(bad.code).toBe(1);
    const failed = JSON.parse(bad.stdout) as DagTestResult;
    expect(failed.tasks.map((t) => [t.taskId, t.state, t.tries])).toEqual([
      ['choose', 'failed', 1],
      ['left', 'upstream_failed', 0],
      ['right', 'upstream_failed', 0],
      ['join', 'upstream_failed', 0],
    ]);
    expect(failed.tasks[0]?.error).toBe(
      "branch task 'choose' chose 'middle', not among its direct downstream tasks: its direct downstream tasks are 'left', 'right'",
    );
  });
});
