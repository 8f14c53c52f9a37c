import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { Json } from '../../src/core/dag-spec.ts';
import { SkipTask, TaskFailure } from '../../src/core/errors.ts';
import type { AttemptLogRecord } from '../../src/executor/attempt-log.ts';
import {
  AttemptAbort,
  type RunAttemptOptions,
  runAttempt,
} from '../../src/executor/task-runner.ts';
import type { OperatorContext } from '../../src/operators/operator.ts';
import { registerOperator } from '../../src/operators/registry.ts';
import { attemptRequest, readLog, tempDir } from './support.ts';

/** What the `probe` operator does, by case name. */
const cases = new Map<string, (ctx: OperatorContext, config: { [key: string]: Json }) => unknown>();

beforeAll(() => {
  registerOperator({
    name: 'probe',
    description: 'Runs the test case named in its config.',
    configSchema: Type.Object(
      { case: Type.String({ description: 'Test case.' }) },
      { additionalProperties: true, description: 'Test probe.' },
    ),
    async run(config: { case: string; [key: string]: Json }, ctx) {
      const behaviour = cases.get(config.case);
      if (behaviour === undefined) throw new Error(`no test case '${config.case}'`);
      return (await behaviour(ctx, config)) as Json | undefined;
    },
  });
});

afterEach(() => cases.clear());

let dir: string;
beforeAll(() => {
  dir = tempDir('updraft-runner-');
});

function probeRequest(config: { [key: string]: Json }, taskOverrides = {}) {
  return attemptRequest({
    dir,
    fileloc: path.join(dir, 'pipeline.ts'),
    taskId: 'probe_task',
    operator: 'probe',
    config,
    task: taskOverrides,
    params: { n: 7 },
  });
}

async function probe(
  behaviour: (ctx: OperatorContext, config: { [key: string]: Json }) => unknown,
  options: Partial<RunAttemptOptions> & { config?: { [key: string]: Json } } = {},
) {
  cases.set('case', behaviour);
  const request = probeRequest({ case: 'case', ...options.config });
  const outcome = await runAttempt(request, { signal: new AbortController().signal, ...options });
  return { outcome, request, log: readLog(request.logPath) };
}

/** What an operator that honours its abort signal does: rejects with the abort reason. */
function waitForAbort(ctx: OperatorContext): Promise<never> {
  return new Promise((_resolve, reject) =>
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
  );
}

/** Runs a probe that waits for its abort signal, and aborts it with `reason` once it runs. */
async function abortedWhileRunning(reason: unknown) {
  const controller = new AbortController();
  const running = deferred();
  const done = probe(
    (ctx) => {
      running.resolve();
      return waitForAbort(ctx);
    },
    { signal: controller.signal },
  );
  await running.promise;
  controller.abort(reason);
  return done;
}

/** A promise with its resolve function, to hear from inside a running operator. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('runAttempt', () => {
  it('hands the operator the task context and its rendered config', async () => {
    const { outcome, request } = await probe(
      (ctx, config) => ({
        text: config.text ?? null,
        dagId: ctx.dagId,
        taskId: ctx.taskId,
        runId: ctx.runId,
        runType: ctx.runType,
        tryNumber: ctx.tryNumber,
        maxTries: ctx.maxTries,
        ds: ctx.ds,
        logicalDate: ctx.logicalDate.toISOString(),
        dataIntervalEnd: ctx.dataIntervalEnd.toISOString(),
        params: ctx.params,
        upstream: ctx.upstream,
        fileloc: ctx.attempt.fileloc,
        aborted: ctx.signal.aborted,
      }),
      { config: { text: '{{ ds }} n={{ params.n }}' } },
    );
    expect(outcome).toEqual({
      outcome: 'success',
      exitReason: 'success',
      result: {
        text: '2024-05-01 n=7',
        dagId: 'executor_tests',
        taskId: 'probe_task',
        runId: request.key.runId,
        runType: 'manual',
        tryNumber: 1,
        maxTries: 1,
        ds: '2024-05-01',
        logicalDate: '2024-05-01T02:00:00.000Z',
        dataIntervalEnd: '2024-05-01T02:00:00.000Z',
        params: { n: 7 },
        upstream: {},
        fileloc: request.fileloc,
        aborted: false,
      },
    });
  });

  it('logs the start and the end of the attempt', async () => {
    const clock = new ManualClock('2024-05-01T02:00:00Z');
    const { log } = await probe(() => clock.advance(250), { clock });
    expect(log[0]).toMatchObject({
      level: 'info',
      msg: 'attempt started',
      operator: 'probe',
      pid: process.pid,
    });
    expect(log.at(-1)).toMatchObject({
      msg: 'attempt finished',
      outcome: 'success',
      exit_reason: 'success',
      duration_ms: 250,
    });
  });

  it('reports success without a result when the operator returns nothing', async () => {
    const { outcome } = await probe(() => undefined);
    expect(outcome).toEqual({ outcome: 'success', exitReason: 'success' });
  });

  it.each([
    [Number.NaN, 'result is NaN (not a finite number)'],
    [[1, undefined], 'result[1] is undefined (use null)'],
    [{ a: { b: new Map() } }, 'result.a.b is a Map, not a plain object'],
    [{ at: new Date(0) }, 'result.at is a Date, not a plain object (return date.toISOString())'],
    [() => 1, 'result is a function'],
    [{ n: 10n }, 'result.n is a bigint'],
  ])('fails without retry on a result that is not JSON: %s', async (value, problem) => {
    const { outcome } = await probe(() => value);
    expect(outcome).toMatchObject({
      outcome: 'failed',
      exitReason: 'error_no_retry',
      error: { message: `the task result is not JSON: ${problem}` },
    });
  });

  it('fails on a result that contains itself', async () => {
    const cycle: { [key: string]: unknown } = { a: 1 };
    cycle.self = cycle;
    const { outcome } = await probe(() => cycle);
    expect(outcome.error?.message).toBe(
      'the task result is not JSON: result.self refers back to one of its parents (a cycle)',
    );
  });

  it('drops undefined properties, as JSON does', async () => {
    const { outcome } = await probe(() => ({ a: 1, b: undefined }));
    expect(outcome.result).toEqual({ a: 1 });
  });

  it('fails a result over the size limit, naming its size and the limit', async () => {
    const { outcome } = await probe(() => 'x'.repeat(20), { resultLimitBytes: 10 });
    expect(outcome).toMatchObject({
      outcome: 'failed',
      exitReason: 'result_too_large',
      error: {
        message:
          'the task result is 22 bytes of JSON, over the limit of 10 bytes: write large data to a dataset or a file and return a reference to it',
      },
    });
  });

  it('classifies what the operator throws', async () => {
    const cause = new Error('connection refused');
    const plain = await probe(() => {
      throw new Error('load failed', { cause });
    });
    expect(plain.outcome).toMatchObject({
      outcome: 'failed',
      exitReason: 'error',
      error: { message: 'load failed', name: 'Error' },
    });
    expect(plain.outcome.error?.stack).toContain('Caused by: Error: connection refused');
    expect(plain.log).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'attempt failed: load failed',
        exit_reason: 'error',
      }),
    );

    const retryable = await probe(() => {
      throw new TaskFailure('try again');
    });
    expect(retryable.outcome.exitReason).toBe('error');

    const final = await probe(() => {
      throw new TaskFailure('bad input', { retry: false });
    });
    expect(final.outcome).toMatchObject({
      exitReason: 'error_no_retry',
      error: { name: 'TaskFailure' },
    });

    const skipped = await probe(() => {
      throw new SkipTask('no new files');
    });
    expect(skipped.outcome).toEqual({
      outcome: 'skipped',
      exitReason: 'success',
      error: expect.objectContaining({ message: 'no new files', name: 'SkipTask' }),
    });

    const text = await probe(() => {
      throw 'a string';
    });
    expect(text.outcome).toEqual({
      outcome: 'failed',
      exitReason: 'error',
      error: { message: 'a string' },
    });
  });

  it('recognises TaskFailure and SkipTask from another copy of Updraft by name', async () => {
    const foreignFailure = Object.assign(new Error('stop'), { name: 'TaskFailure', retry: false });
    const noRetry = await probe(() => {
      throw foreignFailure;
    });
    expect(noRetry.outcome.exitReason).toBe('error_no_retry');
    const foreignSkip = Object.assign(new Error('skip it'), { name: 'SkipTask' });
    const skipped = await probe(() => {
      throw foreignSkip;
    });
    expect(skipped.outcome.outcome).toBe('skipped');
  });

  it('reports timeout or cancelled according to the abort reason', async () => {
    const timedOut = await abortedWhileRunning(new AttemptAbort('timeout', 'over the deadline'));
    expect(timedOut.outcome).toEqual({
      outcome: 'failed',
      exitReason: 'timeout',
      error: { message: 'over the deadline', name: 'AttemptAbort' },
    });

    const { outcome, log } = await abortedWhileRunning('because');
    expect(outcome).toMatchObject({ outcome: 'failed', exitReason: 'cancelled' });
    expect(log).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'attempt cancelled' }),
    );
    expect(log.some((r) => r.level === 'error')).toBe(false);
  });

  it('does not run an attempt aborted before it starts', async () => {
    let ran = false;
    const { outcome } = await probe(
      () => {
        ran = true;
      },
      { signal: AbortSignal.abort(new AttemptAbort('cancelled')) },
    );
    expect(outcome.exitReason).toBe('cancelled');
    expect(ran).toBe(false);
  });

  it('times the attempt out after executionTimeoutMs on its clock', async () => {
    const clock = new ManualClock('2024-05-01T02:00:00Z');
    const running = deferred();
    cases.set('wait', (ctx) => {
      running.resolve();
      return waitForAbort(ctx);
    });
    const request = probeRequest({ case: 'wait' }, { executionTimeoutMs: 1000 });
    const outcome = runAttempt(request, { signal: new AbortController().signal, clock });
    await running.promise;
    clock.advance(999);
    clock.advance(1);
    expect(await outcome).toEqual({
      outcome: 'failed',
      exitReason: 'timeout',
      error: {
        message: 'attempt timed out after 1000 ms (executionTimeout)',
        name: 'AttemptAbort',
      },
    });
  });

  it('abandons an operator that does not stop within abortGraceMs', async () => {
    const clock = new ManualClock('2024-05-01T02:00:00Z');
    const controller = new AbortController();
    const running = deferred();
    const warned = deferred();
    const done = probe(
      () => {
        running.resolve();
        return new Promise(() => {});
      },
      {
        signal: controller.signal,
        clock,
        abortGraceMs: 3000,
        onLog: (record: AttemptLogRecord) => {
          if (record.level === 'warn') warned.resolve();
        },
      },
    );
    await running.promise;
    controller.abort(new AttemptAbort('cancelled'));
    await warned.promise;
    clock.advance(3000);
    const { outcome, log } = await done;
    expect(outcome.exitReason).toBe('cancelled');
    expect(log).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'the task did not stop within 3000 ms of being aborted; abandoning it',
      }),
    );
  });

  it('fails without retry on an unknown operator, naming the DAG and task', async () => {
    const request = attemptRequest({
      dir,
      fileloc: path.join(dir, 'pipeline.ts'),
      taskId: 'mystery',
      operator: 'nope',
    });
    const outcome = await runAttempt(request, { signal: new AbortController().signal });
    expect(outcome).toMatchObject({ outcome: 'failed', exitReason: 'error_no_retry' });
    expect(outcome.error?.message).toMatch(
      /^dag 'executor_tests' task 'mystery': unknown operator 'nope' \(known operators: .*'shell'/,
    );
  });

  it('fails when the log file cannot be opened', async () => {
    const request = { ...probeRequest({ case: 'x' }), logPath: '/dev/null/attempt.log' };
    const outcome = await runAttempt(request, { signal: new AbortController().signal });
    expect(outcome).toMatchObject({ outcome: 'failed', exitReason: 'error' });
    expect(outcome.error?.message).toMatch(
      /^cannot open the attempt log \/dev\/null\/attempt\.log: /,
    );
  });

  it('captures console output into the log when asked, then restores it', async () => {
    const write = process.stdout.write;
    const { log } = await probe(
      () => {
        process.stdout.write('captured line\n');
        process.stderr.write('partial, no newline');
      },
      { captureOutput: true },
    );
    expect(process.stdout.write).toBe(write);
    expect(log).toContainEqual(expect.objectContaining({ msg: 'captured line', stream: 'stdout' }));
    expect(log).toContainEqual(
      expect.objectContaining({ msg: 'partial, no newline', stream: 'stderr' }),
    );
  });

  it('looks up connections from the environment and masks their passwords in the log', async () => {
    process.env.UPDRAFT_CONN_RUNNER_DB = 'postgres://etl:topsecret@db.internal:5432/sales';
    try {
      const { outcome, log } = await probe((ctx) => {
        const connection = ctx.connection('runner_db');
        ctx.log.info(`connecting to ${connection.url}`, { password: connection.password });
        return connection.host;
      });
      expect(outcome.result).toBe('db.internal');
      const line = log.find((r) => r.msg.startsWith('connecting to'));
      expect(line).toMatchObject({
        msg: 'connecting to postgres://etl:***@db.internal:5432/sales',
        password: '***',
      });
      const missing = await probe((ctx) => ctx.connection('absent'));
      expect(missing.outcome.error?.message).toContain('UPDRAFT_CONN_ABSENT');
    } finally {
      delete process.env.UPDRAFT_CONN_RUNNER_DB;
    }
  });
});
