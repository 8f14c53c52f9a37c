import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../../src/core/dag-spec.ts';
import { AttemptAbort, runAttempt } from '../../src/executor/task-runner.ts';
import { SHELL_KILL_GRACE_MS } from '../../src/operators/shell-operator.ts';
import {
  attemptRequest,
  isAlive,
  readLog,
  readPidFile,
  sleeperCommand,
  tempDir,
  waitUntil,
} from '../executor/support.ts';

let dir: string;
let fileloc: string;

beforeAll(() => {
  dir = realpathSync(tempDir('updraft-shell-'));
  fileloc = path.join(dir, 'pipeline.ts');
});

interface RunOptions {
  signal?: AbortSignal;
  params?: { [key: string]: Json };
}

function shellRequest(config: { [key: string]: Json }, params?: { [key: string]: Json }) {
  return attemptRequest({ dir, fileloc, taskId: 'cmd', operator: 'shell', config, params });
}

async function run(config: { [key: string]: Json }, options: RunOptions = {}) {
  const request = shellRequest(config, options.params);
  const outcome = await runAttempt(request, {
    signal: options.signal ?? new AbortController().signal,
  });
  return { outcome, request, log: readLog(request.logPath) };
}

describe('shell operator', () => {
  it('runs in the pipeline directory with the worker env, UPDRAFT_* variables and config env', async () => {
    process.env.UPDRAFT_TEST_INHERITED = 'inherited';
    const { outcome } = await run({
      command:
        'echo "$GREETING|$UPDRAFT_TEST_INHERITED|$UPDRAFT_DAG_ID|$UPDRAFT_TASK_ID|$UPDRAFT_TRY_NUMBER|$UPDRAFT_DS|$UPDRAFT_LOGICAL_DATE|$(pwd)"',
      env: { GREETING: 'hi' },
      returnOutput: 'last_line',
    });
    delete process.env.UPDRAFT_TEST_INHERITED;
    expect(outcome).toMatchObject({
      outcome: 'success',
      result: `hi|inherited|executor_tests|cmd|1|2024-05-01|2024-05-01T02:00:00.000Z|${dir}`,
    });
  });

  it('resolves a relative cwd against the pipeline directory', async () => {
    mkdirSync(path.join(dir, 'scripts'), { recursive: true });
    const { outcome } = await run({ command: 'pwd', cwd: 'scripts', returnOutput: 'last_line' });
    expect(outcome.result).toBe(path.join(dir, 'scripts'));
  });

  it('fails naming a working directory that does not exist', async () => {
    const { outcome } = await run({ command: 'true', cwd: 'no/such/dir' });
    expect(outcome).toMatchObject({ outcome: 'failed', exitReason: 'error' });
    expect(outcome.error?.message).toBe(
      `working directory '${path.join(dir, 'no/such/dir')}' does not exist or is not a directory`,
    );
  });

  it('fails on a non-zero exit code, naming it and the last stderr line', async () => {
    const { outcome } = await run({ command: 'echo first >&2; echo "no such table" >&2; exit 3' });
    expect(outcome).toMatchObject({
      outcome: 'failed',
      exitReason: 'error',
      error: {
        message: 'command exited with code 3; last stderr line: no such table',
        name: 'TaskFailure',
      },
    });
  });

  it('skips on exit code 99 by default, and on the configured code', async () => {
    expect((await run({ command: 'exit 99' })).outcome).toMatchObject({
      outcome: 'skipped',
      error: { message: 'command exited with code 99 (skipOnExitCode)' },
    });
    expect((await run({ command: 'exit 42', skipOnExitCode: 42 })).outcome.outcome).toBe('skipped');
    expect((await run({ command: 'exit 99', skipOnExitCode: null })).outcome).toMatchObject({
      outcome: 'failed',
      exitReason: 'error',
    });
  });

  it('returns nothing, the last non-empty line, or parsed JSON', async () => {
    const none = await run({ command: 'echo ignored' });
    expect(none.outcome.outcome).toBe('success');
    expect(none.outcome).not.toHaveProperty('result');

    const last = await run({ command: 'echo one; echo two; echo', returnOutput: 'last_line' });
    expect(last.outcome.result).toBe('two');

    const json = await run({ command: `printf '{"rows": [1, 2]}'`, returnOutput: 'json' });
    expect(json.outcome.result).toEqual({ rows: [1, 2] });

    const bad = await run({ command: 'echo not-json', returnOutput: 'json' });
    expect(bad.outcome).toMatchObject({ outcome: 'failed', exitReason: 'error' });
    expect(bad.outcome.error?.message).toMatch(
      /^returnOutput is 'json' but stdout is not valid JSON/,
    );
  });

  it('streams stdout and stderr into the task log, line by line', async () => {
    const { log } = await run({ command: `echo out-1; echo err-1 >&2; printf 'out-2\\nout-3'` });
    const lines = log.filter((r) => r.stream !== undefined);
    expect(lines.filter((r) => r.stream === 'stdout').map((r) => r.msg)).toEqual([
      'out-1',
      'out-2',
      'out-3',
    ]);
    expect(lines.filter((r) => r.stream === 'stderr').map((r) => r.msg)).toEqual(['err-1']);
    expect(lines.every((r) => r.level === 'info' && r.task_id === 'cmd')).toBe(true);
  });

  it('renders templates in the config before running', async () => {
    const { outcome } = await run(
      {
        command: 'echo {{ params.name | upper }} {{ ds_nodash }} {{ run_id }}',
        returnOutput: 'last_line',
      },
      { params: { name: 'ada' } },
    );
    expect(outcome.result).toMatch(/^ADA 20240501 manual__test_/);
  });

  it('fails without retry when a template reads an unknown variable', async () => {
    const { outcome } = await run({ command: 'echo {{ nope }}' });
    expect(outcome).toMatchObject({ outcome: 'failed', exitReason: 'error_no_retry' });
    expect(outcome.error?.message).toContain("config field 'command'");
    expect(outcome.error?.message).toContain("unknown template variable 'nope'");
  });

  it('uses the configured shell, and names a shell that does not exist', async () => {
    const bash = await run({
      command: '[[ 1 == 1 ]] && echo bash-ok',
      shell: '/bin/bash',
      returnOutput: 'last_line',
    });
    expect(bash.outcome.result).toBe('bash-ok');
    const missing = await run({ command: 'true', shell: '/no/such/shell' });
    expect(missing.outcome).toMatchObject({ outcome: 'failed', exitReason: 'error' });
    expect(missing.outcome.error?.message).toBe(
      "shell '/no/such/shell' was not found: set 'shell' to an installed shell",
    );
  });

  it('kills the whole process group when the attempt is aborted', async () => {
    const pidFile = path.join(dir, 'abort.pid');
    const controller = new AbortController();
    const running = run({ command: sleeperCommand(pidFile) }, { signal: controller.signal });
    const pid = await readPidFile(pidFile);
    controller.abort(new AttemptAbort('cancelled'));
    const { outcome } = await running;
    expect(outcome).toMatchObject({ outcome: 'failed', exitReason: 'cancelled' });
    await waitUntil(() => !isAlive(pid), `sleep ${pid} is gone`);
  });

  it(`kills with SIGKILL a command that ignores SIGTERM, ${SHELL_KILL_GRACE_MS} ms later`, async () => {
    const pidFile = path.join(dir, 'stubborn.pid');
    const controller = new AbortController();
    const running = run(
      { command: `trap '' TERM; echo $$ > '${pidFile}'; while true; do sleep 0.05; done` },
      { signal: controller.signal },
    );
    const pid = await readPidFile(pidFile);
    controller.abort(new AttemptAbort('timeout'));
    const { outcome, log } = await running;
    expect(outcome).toMatchObject({ outcome: 'failed', exitReason: 'timeout' });
    expect(log.some((r) => r.msg.includes('abandoning'))).toBe(false);
    expect(isAlive(pid)).toBe(false);
  });

  it('ends processes the command leaves running in the background', async () => {
    const pidFile = path.join(dir, 'background.pid');
    const { outcome } = await run({ command: `sleep 30 & echo $! > '${pidFile}'` });
    expect(outcome.outcome).toBe('success');
    const pid = await readPidFile(pidFile);
    await waitUntil(() => !isAlive(pid), `background sleep ${pid} is gone`);
  });

  it('rejects an invalid config before running anything, naming the fields', async () => {
    const { outcome } = await run({ comand: 'true', returnOutput: 'everything' });
    expect(outcome).toMatchObject({
      outcome: 'failed',
      exitReason: 'error_no_retry',
      error: { name: 'SpecError' },
    });
    const message = outcome.error?.message ?? '';
    expect(message).toContain("dag 'executor_tests' task 'cmd' field 'command': is required");
    expect(message).toContain("field 'comand': is not a known field (known fields: command, env");
    expect(message).toContain(
      `field 'returnOutput': must be one of "none", "last_line", "json" (got "everything")`,
    );
  });
});
