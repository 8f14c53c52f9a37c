/**
 * The whole engine — loader, scheduler, store, local executor with real worker
 * processes — on every store backend.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const ETL = `
import { dag, TaskFailure } from 'updraft';
export default dag({ id: 'etl', params: { type: 'object', properties: { n: { type: 'integer', default: 3 } } } }, (d) => {
  const extract = d.task('extract', async (ctx) => {
    ctx.log.info('extracting', { n: ctx.params.n });
    return { rows: Array.from({ length: Number(ctx.params.n) }, (_, i) => i + 1) };
  });
  const total = d.task('total', async (ctx) => {
    const rows = (ctx.upstream.extract as { rows: number[] }).rows;
    return rows.reduce((a, b) => a + b, 0);
  });
  const report = d.shell('report', { command: 'echo "total={{ upstream.total }} ds={{ ds }}"', returnOutput: 'last_line' });
  extract.before(total);
  total.before(report);
});
`;

const FLAKY = `
import { dag, TaskFailure } from 'updraft';
import { existsSync, writeFileSync } from 'node:fs';
export default dag({ id: 'flaky' }, (d) => {
  d.task('once_fails', { retries: 2, retryDelay: 0 }, async (ctx) => {
    if (ctx.tryNumber === 1) throw new Error('first try fails');
    return ctx.tryNumber;
  });
  d.task('never_retried', { retries: 5, retryDelay: 0 }, async () => {
    throw new TaskFailure('bad input, do not retry', { retry: false });
  });
  d.task('slow', { executionTimeout: '300ms' }, async (ctx) => {
    await new Promise((r) => setTimeout(r, 10_000));
  });
  d.task('crash', { retries: 1, retryDelay: 0 }, async (ctx) => {
    if (ctx.tryNumber === 1) process.kill(process.pid, 'SIGKILL');
    return 'survived';
  });
});
`;

for (const backend of STORE_BACKENDS) {
  describe(`engine end to end on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('runs a TypeScript pipeline: results flow downstream, params and templates apply, logs are written', async () => {
      rt = await startTestRuntime(backend, { 'etl.ts': ETL });
      const run = await rt.runtime.ops.triggerRun('etl', { params: { n: 4 }, runId: 'r1' });
      expect(run.params).toEqual({ n: 4 });
      const done = await rt.waitForRun('etl', 'r1');
      expect(done.state).toBe('success');
      expect(done.tasks.map((t) => [t.taskId, t.state])).toEqual([
        ['extract', 'success'],
        ['total', 'success'],
        ['report', 'success'],
      ]);
      const total = await rt.runtime.ops.getTaskInstance('etl', 'r1', 'total');
      expect(total.result).toBe(10);
      const report = await rt.runtime.ops.getTaskInstance('etl', 'r1', 'report');
      expect(report.result).toBe(`total=10 ds=${run.logicalDate.slice(0, 10)}`);
      const log = readFileSync(await rt.runtime.ops.taskLogPath('etl', 'r1', 'extract'), 'utf8');
      const line = JSON.parse(log.split('\n').find((l) => l.includes('extracting'))!);
      expect(line).toMatchObject({
        msg: 'extracting',
        dag_id: 'etl',
        run_id: 'r1',
        task_id: 'extract',
        try_number: 1,
        n: 4,
      });
    });

    it('retries, fails without retry, times out, and survives a killed worker', async () => {
      rt = await startTestRuntime(backend, { 'flaky.ts': FLAKY });
      await rt.runtime.ops.triggerRun('flaky', { runId: 'r1' });
      const done = await rt.waitForRun('flaky', 'r1', 30_000);
      const byId = Object.fromEntries(done.tasks.map((t) => [t.taskId, t]));
      expect(byId.once_fails).toMatchObject({ state: 'success', tryNumber: 2 });
      expect(byId.never_retried).toMatchObject({ state: 'failed', tryNumber: 1 });
      expect(byId.slow).toMatchObject({ state: 'failed', tryNumber: 1 });
      expect(byId.crash).toMatchObject({ state: 'success', tryNumber: 2 });
      const slow = await rt.runtime.ops.getTaskInstance('flaky', 'r1', 'slow');
      expect(slow.attempts[0]!.exitReason).toBe('timeout');
      const crash = await rt.runtime.ops.getTaskInstance('flaky', 'r1', 'crash');
      expect(crash.attempts.map((a) => a.exitReason)).toEqual(['worker_lost', 'success']);
      expect(done.state).toBe('failed');
    });

    it('rejects params that fail the schema, naming the field; nothing is created', async () => {
      rt = await startTestRuntime(backend, { 'etl.ts': ETL });
      await expect(
        rt.runtime.ops.triggerRun('etl', { params: { n: 'many' } }),
      ).rejects.toMatchObject({
        name: 'ParamsError',
        field: 'n',
      });
      expect(await rt.runtime.ops.listRuns('etl')).toEqual([]);
    });
  });
}
