/**
 * Alerting through the whole engine on both stores: task and run hooks declared in a
 * TypeScript pipeline reach a real webhook receiver (signed), and deadlines measured on
 * an injected clock raise an alert, a metric and a `deadline_misses` mark while the work
 * goes on.
 */
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { listDeadlineMisses } from '../../src/notify/deadline-misses.ts';
import { verifyWebhookSignature } from '../../src/notify/webhook-notifier.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type HttpReceiver, startHttpReceiver } from './receivers.ts';

const SECRET = 'hook-secret-123';

const FAILING = `
import { dag } from 'updraft';
export default dag({ id: 'alerts', notify: { onFailure: ['oncall'], onSuccess: ['oncall'] } }, (d) => {
  const a = d.task('a', { retries: 1, retryDelay: 0, notify: { onRetry: ['oncall'], onFailure: ['oncall'] } }, (ctx) => {
    throw new Error('boom on try ' + ctx.tryNumber + '\\nsecond line of the error');
  });
  d.task('b', () => 1).after(a);
});
`;

const LATE = `
import { dag } from 'updraft';
export default dag({ id: 'late', deadline: { after: '1h', from: 'logical_date' }, notify: { onDeadlineMiss: ['oncall'] } }, (d) => {
  d.task('t', async () => { await new Promise((r) => setTimeout(r, 300)); return 1; });
});
`;

/** A task that waits for a file, so the test decides when it ends. */
const SLOW = (gate: string) => `
import { existsSync } from 'node:fs';
import { dag } from 'updraft';
export default dag({ id: 'sla', deadline: { after: '10m', from: 'start' }, notify: { onDeadlineMiss: ['oncall'] } }, (d) => {
  d.task('wait', { deadline: { after: '5m' }, notify: { onDeadlineMiss: ['oncall'] } }, async () => {
    while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 50));
    return 'done';
  });
  d.task('quick', () => 1);
});
`;

for (const backend of STORE_BACKENDS) {
  describe(`alerting on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    let hook: HttpReceiver | undefined;
    afterEach(async () => {
      await rt?.close();
      await hook?.close();
      rt = undefined;
      hook = undefined;
      delete process.env.UPDRAFT_CONN_ONCALL;
      delete process.env.UPDRAFT_UI_URL;
    });

    it('sends retry, task failure and run failure alerts with error lines and log links', async () => {
      hook = await startHttpReceiver();
      process.env.UPDRAFT_CONN_ONCALL = `webhook+${hook.url.replace('//', `//:${SECRET}@`)}/updraft`;
      process.env.UPDRAFT_UI_URL = 'https://ui.example.com/';
      rt = await startTestRuntime(backend, { 'alerts.ts': FAILING });
      await rt.runtime.ops.triggerRun('alerts', { runId: 'r1' });
      await rt.waitForRun('alerts', 'r1');
      const requests = await hook.waitFor(3);
      const bodies = requests.map((r) => {
        expect(
          verifyWebhookSignature(
            SECRET,
            {
              timestamp: r.headers['x-updraft-timestamp'] as string,
              signature: r.headers['x-updraft-signature'] as string,
            },
            r.body,
          ),
        ).toBe(true);
        return JSON.parse(r.body) as Record<string, unknown>;
      });
      expect(bodies.map((b) => [b.kind, b.taskId, b.tryNumber])).toEqual([
        ['task_retry', 'a', 1],
        ['task_failed', 'a', 2],
        ['run_failed', null, null],
      ]);
      expect(bodies[1]).toMatchObject({
        dagId: 'alerts',
        runId: 'r1',
        maxTries: 2,
        state: 'failed',
        errorExcerpt: 'boom on try 2\nsecond line of the error',
        link: 'https://ui.example.com/#/dags/alerts/runs/r1/tasks/a?try=2',
      });
      expect(bodies[1]?.durationMs).toEqual(expect.any(Number));
      expect(bodies[2]).toMatchObject({
        error: 'failed tasks: a, b',
        link: 'https://ui.example.com/#/dags/alerts/runs/r1',
      });
      // Nothing else: no success alerts for a failed run.
      await new Promise((r) => setTimeout(r, 300));
      expect(hook.requests).toHaveLength(3);
    });

    it('raises task and run deadline misses on the injected clock; the work continues', async () => {
      hook = await startHttpReceiver();
      process.env.UPDRAFT_CONN_ONCALL = `webhook+${hook.url.replace('//', `//:${SECRET}@`)}/updraft`;
      const clock = new ManualClock(Date.now());
      const gate = path.join(os.tmpdir(), `updraft-gate-${process.pid}-${backend.name}`);
      rt = await startTestRuntime(backend, { 'sla.ts': SLOW(gate) }, { clock });
      const runtime = rt.runtime;
      await runtime.ops.triggerRun('sla', { runId: 'r1' });
      await rt.waitFor(async () => {
        const ti = await runtime.ops.getTaskInstance('sla', 'r1', 'wait');
        return ti.state === 'running' ? true : undefined;
      }, 'the task to run');
      await rt.waitFor(async () => {
        const ti = await runtime.ops.getTaskInstance('sla', 'r1', 'quick');
        return ti.state === 'success' ? true : undefined;
      }, 'quick to finish');

      clock.advance(4 * 60_000);
      await rt.waitFor(
        async () =>
          (await runtime.ops.getRun('sla', 'r1')).state === 'running' ? true : undefined,
        'tick',
      );
      expect(await listDeadlineMisses(runtime.store.db, { dagId: 'sla' })).toEqual([]);

      clock.advance(60_000 + 1);
      const [taskMiss] = await hook.waitFor(1);
      expect(JSON.parse(taskMiss?.body ?? '{}')).toMatchObject({
        kind: 'task_deadline_missed',
        dagId: 'sla',
        runId: 'r1',
        taskId: 'wait',
        state: 'running',
        deadline: { afterMs: 300_000, from: 'start' },
      });
      clock.advance(5 * 60_000);
      const [, runMiss] = await hook.waitFor(2);
      expect(JSON.parse(runMiss?.body ?? '{}')).toMatchObject({
        kind: 'run_deadline_missed',
        taskId: null,
        state: 'running',
      });

      const misses = await listDeadlineMisses(runtime.store.db, { dagId: 'sla' });
      expect(misses.map((m) => [m.taskId, m.afterMs, m.from])).toEqual([
        [null, 600_000, 'start'],
        ['wait', 300_000, 'start'],
      ]);
      const metrics = (await runtime.metrics?.exposition())?.body ?? '';
      expect(metrics).toContain('updraft_deadline_misses_total{dag_id="sla",scope="task"} 1');
      expect(metrics).toContain('updraft_deadline_misses_total{dag_id="sla",scope="run"} 1');

      // The miss stopped nothing: the task finishes and the run succeeds.
      writeFileSync(gate, '');
      const run = await rt.waitForRun('sla', 'r1');
      expect(run.state).toBe('success');
      // A restarted runtime does not raise the same misses again.
      await rt.restart();
      await rt.runtime.scheduler?.nextTick();
      expect(hook.requests).toHaveLength(2);
      rmSync(gate, { force: true });
    });

    it('measures from the logical date: a run for an old date misses at once', async () => {
      hook = await startHttpReceiver();
      process.env.UPDRAFT_CONN_ONCALL = `webhook+${hook.url.replace('//', `//:${SECRET}@`)}/updraft`;
      const clock = new ManualClock(Date.now());
      rt = await startTestRuntime(backend, { 'late.ts': LATE }, { clock });
      const logicalDate = new Date(clock.now() - 2 * 3_600_000).toISOString();
      await rt.runtime.ops.triggerRun('late', { runId: 'old', logicalDate });
      const [miss] = await hook.waitFor(1);
      expect(JSON.parse(miss?.body ?? '{}')).toMatchObject({
        kind: 'run_deadline_missed',
        runId: 'old',
        deadline: {
          from: 'logical_date',
          afterMs: 3_600_000,
          dueAt: Date.parse(logicalDate) + 3_600_000,
        },
      });
      await rt.waitForRun('late', 'old');
      const [recorded] = await listDeadlineMisses(rt.runtime.store.db, { runId: 'old' });
      expect(recorded).toMatchObject({ dagId: 'late', taskId: null, from: 'logical_date' });
    });
  });
}
