/**
 * Scheduling behaviour over time, with an injected clock: cron runs and catch-up, retry
 * delays, run timeouts, backfill, clear and re-run, pools, and a restarted scheduler.
 * Tasks run in real worker processes; only the scheduler's notion of time is moved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const HOURLY = (catchup: boolean) => `
import { dag } from 'updraft';
export default dag({ id: 'hourly', schedule: '@hourly', startDate: '2026-03-01T07:00:00Z', catchup: ${catchup} }, (d) => {
  d.task('t', async (ctx) => ({ start: ctx.dataIntervalStart.toISOString(), end: ctx.dataIntervalEnd.toISOString() }));
});
`;

for (const backend of STORE_BACKENDS) {
  describe(`scheduling on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    async function settle(r: TestRuntime, dagId: string) {
      return r.waitFor(async () => {
        const runs = await r.runtime.ops.listRuns(dagId, { limit: 100 });
        return runs.length && runs.every((x) => x.state === 'success' || x.state === 'failed')
          ? runs
          : undefined;
      }, `runs of ${dagId} to finish`);
    }

    it('catchup creates one run per missed interval, then one per tick as time passes', async () => {
      const clock = new ManualClock('2026-03-01T10:30:00Z');
      rt = await startTestRuntime(backend, { 'hourly.ts': HOURLY(true) }, { clock });
      const runs = await settle(rt, 'hourly');
      expect(
        runs.map((r) => [r.runId, r.dataIntervalStart, r.dataIntervalEnd, r.state]).reverse(),
      ).toEqual([
        [
          'scheduled__2026-03-01T07:00:00.000Z',
          '2026-03-01T07:00:00.000Z',
          '2026-03-01T08:00:00.000Z',
          'success',
        ],
        [
          'scheduled__2026-03-01T08:00:00.000Z',
          '2026-03-01T08:00:00.000Z',
          '2026-03-01T09:00:00.000Z',
          'success',
        ],
        [
          'scheduled__2026-03-01T09:00:00.000Z',
          '2026-03-01T09:00:00.000Z',
          '2026-03-01T10:00:00.000Z',
          'success',
        ],
      ]);
      const t = await rt.runtime.ops.getTaskInstance('hourly', runs[0]!.runId, 't');
      expect(t.result).toEqual({
        start: '2026-03-01T09:00:00.000Z',
        end: '2026-03-01T10:00:00.000Z',
      });
      expect((await rt.runtime.ops.getDag('hourly')).nextRunAfter).toBe('2026-03-01T11:00:00.000Z');
      clock.set('2026-03-01T11:00:00Z');
      await rt.waitFor(
        async () => ((await rt!.runtime.ops.listRuns('hourly')).length === 4 ? true : undefined),
        'the 10:00 run',
      );
      expect((await rt.runtime.ops.listRuns('hourly'))[0]!.runId).toBe(
        'scheduled__2026-03-01T10:00:00.000Z',
      );
    });

    it('without catchup only the latest interval runs; a paused DAG creates nothing until unpaused', async () => {
      const clock = new ManualClock('2026-03-01T10:30:00Z');
      rt = await startTestRuntime(backend, { 'hourly.ts': HOURLY(false) }, { clock });
      const runs = await settle(rt, 'hourly');
      expect(runs.map((r) => r.runId)).toEqual(['scheduled__2026-03-01T09:00:00.000Z']);
      await rt.runtime.ops.setPaused('hourly', true);
      clock.set('2026-03-01T12:30:00Z');
      await rt.runtime.scheduler!.nextTick();
      expect(await rt.runtime.ops.listRuns('hourly')).toHaveLength(1);
      await rt.runtime.ops.setPaused('hourly', false);
      await rt.waitFor(
        async () => ((await rt!.runtime.ops.listRuns('hourly')).length === 2 ? true : undefined),
        'the latest run after unpause',
      );
      expect((await rt.runtime.ops.listRuns('hourly'))[0]!.runId).toBe(
        'scheduled__2026-03-01T11:00:00.000Z',
      );
    });

    it('waits the retry delay on the injected clock before the next try', async () => {
      const clock = new ManualClock('2026-03-01T10:00:00Z');
      rt = await startTestRuntime(
        backend,
        {
          'retry.ts': `
import { dag } from 'updraft';
export default dag({ id: 'retry' }, (d) => {
  d.task('t', { retries: 1, retryDelay: '1h' }, async (ctx) => {
    if (ctx.tryNumber === 1) throw new Error('transient');
    return ctx.tryNumber;
  });
});`,
        },
        { clock },
      );
      await rt.runtime.ops.triggerRun('retry', { runId: 'r' });
      const waiting = await rt.waitFor(async () => {
        const ti = await rt!.runtime.ops.getTaskInstance('retry', 'r', 't');
        return ti.state === 'up_for_retry' ? ti : undefined;
      }, 'up_for_retry');
      expect(waiting.nextRetryAt).toBe('2026-03-01T11:00:00.000Z');
      clock.advance(59 * 60_000);
      await rt.runtime.scheduler!.nextTick();
      expect((await rt.runtime.ops.getTaskInstance('retry', 'r', 't')).state).toBe('up_for_retry');
      clock.advance(60_000);
      const run = await rt.waitForRun('retry', 'r');
      expect(run.state).toBe('success');
      expect(run.tasks[0]!.tryNumber).toBe(2);
    });

    it('dagrunTimeout fails the run and kills what still runs', async () => {
      const clock = new ManualClock('2026-03-01T10:00:00Z');
      rt = await startTestRuntime(
        backend,
        {
          'slow.ts': `
import { dag } from 'updraft';
export default dag({ id: 'slow', dagrunTimeout: '10m' }, (d) => {
  const a = d.task('a', async () => { await new Promise((r) => setTimeout(r, 60_000)); });
  const b = d.task('b', async () => 1);
  a.before(b);
});`,
        },
        { clock },
      );
      await rt.runtime.ops.triggerRun('slow', { runId: 'r' });
      await rt.waitFor(
        async () =>
          (await rt!.runtime.ops.getTaskInstance('slow', 'r', 'a')).state === 'running'
            ? true
            : undefined,
        'a running',
      );
      clock.advance(10 * 60_000);
      const run = await rt.waitForRun('slow', 'r');
      expect(run.state).toBe('failed');
      expect(run.tasks.map((t) => [t.taskId, t.state])).toEqual([
        ['a', 'failed'],
        ['b', 'skipped'],
      ]);
      const a = await rt.runtime.ops.getTaskInstance('slow', 'r', 'a');
      expect(a.attempts[0]!.exitReason).toBe('cancelled');
      // The worker was freed: a new run proceeds.
      await rt.runtime.ops.triggerRun('slow', { runId: 'r2' });
      await rt.waitFor(
        async () =>
          (await rt!.runtime.ops.getTaskInstance('slow', 'r2', 'a')).state === 'running'
            ? true
            : undefined,
        'a of r2 running',
      );
    });

    it('a restarted scheduler resumes: the interrupted attempt runs again without using a retry', async () => {
      rt = await startTestRuntime(backend, {
        'resume.ts': `
import { dag } from 'updraft';
export default dag({ id: 'resume' }, (d) => {
  const a = d.task('a', async () => 'a');
  const b = d.task('b', async (ctx) => {
    if (ctx.tryNumber === 1) await new Promise((r) => setTimeout(r, 60_000));
    return 'b' + ctx.tryNumber;
  });
  const c = d.task('c', async (ctx) => ctx.upstream.b);
  a.before(b);
  b.before(c);
});`,
      });
      await rt.runtime.ops.triggerRun('resume', { runId: 'r' });
      await rt.waitFor(
        async () =>
          (await rt!.runtime.ops.getTaskInstance('resume', 'r', 'b')).state === 'running'
            ? true
            : undefined,
        'b running',
      );
      await rt.restart();
      const run = await rt.waitForRun('resume', 'r');
      expect(run.state).toBe('success');
      const b = await rt.runtime.ops.getTaskInstance('resume', 'r', 'b');
      expect(b.attempts.map((x) => [x.tryNumber, x.exitReason])).toEqual([
        [1, 'interrupted'],
        [2, 'success'],
      ]);
      expect((await rt.runtime.ops.getTaskInstance('resume', 'r', 'c')).result).toBe('b2');
      expect((await rt.runtime.ops.getTaskInstance('resume', 'r', 'a')).tryNumber).toBe(1);
    });

    it('backfills a range under its own maxActiveRuns, and reprocesses failed or all runs', async () => {
      const clock = new ManualClock('2026-01-10T00:30:00Z');
      rt = await startTestRuntime(
        backend,
        {
          'daily.ts': `
import { dag } from 'updraft';
export default dag({ id: 'daily', schedule: '@daily', startDate: '2026-01-01', pausedOnCreation: true }, (d) => {
  d.task('t', async (ctx) => {
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 150));
    if (ctx.params.fail === ctx.ds) throw new Error('bad day');
    return { ds: ctx.ds, started, ended: Date.now() };
  });
});`,
        },
        { clock },
      );
      const b = await rt.runtime.ops.createBackfill('daily', {
        from: '2026-01-01',
        to: '2026-01-05',
        maxActiveRuns: 2,
      });
      expect(b.runIds).toEqual([1, 2, 3, 4, 5].map((d) => `backfill__2026-01-0${d}T00:00:00.000Z`));
      const runs = await settle(rt, 'daily');
      expect(runs.every((r) => r.state === 'success' && r.runType === 'backfill')).toBe(true);
      // Never more than 2 runs at once.
      const spans: { started: number; ended: number }[] = [];
      for (const r of runs)
        spans.push((await rt.runtime.ops.getTaskInstance('daily', r.runId, 't')).result as never);
      const concurrency = Math.max(
        ...spans.map(
          (s) => spans.filter((o) => o.started <= s.started && s.started < o.ended).length,
        ),
      );
      expect(concurrency).toBeLessThanOrEqual(2);
      expect((await rt.runtime.ops.listBackfills('daily'))[0]!.state).toBe('completed');
      const none = await rt.runtime.ops.createBackfill('daily', {
        from: '2026-01-01',
        to: '2026-01-05',
      });
      expect(none.runIds).toEqual([]);
      const all = await rt.runtime.ops.createBackfill('daily', {
        from: '2026-01-02',
        to: '2026-01-03',
        reprocess: 'all',
      });
      expect(all.runIds).toHaveLength(2);
      await settle(rt, 'daily');
      const again = await rt.runtime.ops.getTaskInstance(
        'daily',
        'backfill__2026-01-02T00:00:00.000Z',
        't',
      );
      expect(again.tryNumber).toBe(2);
    });

    it('clear with downstream re-runs a failed task after its cause is fixed', async () => {
      rt = await startTestRuntime(backend, {
        'fixme.ts': `
import { dag } from 'updraft';
import { existsSync } from 'node:fs';
export default dag({ id: 'fixme', params: { type: 'object', properties: { flag: { type: 'string' } }, required: ['flag'] } }, (d) => {
  const a = d.task('a', async (ctx) => {
    if (!existsSync(String(ctx.params.flag))) throw new Error('flag file missing');
    return 'ok';
  });
  const b = d.task('b', async (ctx) => ctx.upstream.a);
  a.before(b);
});`,
      });
      const flag = `${rt.home}/flag`;
      await rt.runtime.ops.triggerRun('fixme', { runId: 'r', params: { flag } });
      let run = await rt.waitForRun('fixme', 'r');
      expect(run.tasks.map((t) => t.state)).toEqual(['failed', 'upstream_failed']);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(flag, '');
      const { cleared } = await rt.runtime.ops.clearTasks('fixme', 'r', ['a'], {
        downstream: true,
      });
      expect(cleared.sort()).toEqual(['a', 'b']);
      run = await rt.waitForRun('fixme', 'r');
      expect(run.state).toBe('success');
      expect((await rt.runtime.ops.getTaskInstance('fixme', 'r', 'b')).result).toBe('ok');
    });

    it('a pool with one slot runs its tasks one at a time', async () => {
      rt = await startTestRuntime(backend, {
        'pooled.ts': `
import { dag } from 'updraft';
export default dag({ id: 'pooled' }, (d) => {
  for (const id of ['a', 'b', 'c']) {
    d.task(id, { pool: 'single' }, async () => {
      const started = Date.now();
      await new Promise((r) => setTimeout(r, 100));
      return { started, ended: Date.now() };
    });
  }
});`,
      });
      await rt.runtime.ops.setPool('single', 1);
      await rt.runtime.ops.triggerRun('pooled', { runId: 'r' });
      const run = await rt.waitForRun('pooled', 'r');
      expect(run.state).toBe('success');
      const spans = await Promise.all(
        ['a', 'b', 'c'].map(
          async (id) =>
            (await rt!.runtime.ops.getTaskInstance('pooled', 'r', id)).result as {
              started: number;
              ended: number;
            },
        ),
      );
      spans.sort((x, y) => x.started - y.started);
      expect(spans[1]!.started).toBeGreaterThanOrEqual(spans[0]!.ended);
      expect(spans[2]!.started).toBeGreaterThanOrEqual(spans[1]!.ended);
    });
  });
}
