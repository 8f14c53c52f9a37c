/**
 * `trigger_dag` through the whole engine: a run of another DAG is created in the
 * transaction that records the triggering task's success, with rendered, validated
 * params; re-running the triggering task triggers nothing more; an upstream that skips
 * skips the trigger; an unknown DAG or refused params fail the task, saying why.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PIPELINES = `
import { dag, SkipTask } from 'updraft';
export const parent = dag({ id: 'parent', params: { type: 'object', properties: {
  skip: { type: 'boolean', default: false }, target: { type: 'string', default: 'child' }, n: { default: 3 } } } }, (d) => {
  const decide = d.task('decide', (ctx) => {
    if (ctx.params.skip) throw new SkipTask('nothing changed');
    return { changed: 2 };
  });
  const trigger = d.operator('trigger_dag', 'trigger', {
    dagId: '{{ params.target }}',
    params: { day: '{{ ds }}', changed: '{{ upstream.decide.changed }}', n: '{{ params.n }}' },
  });
  decide.before(trigger);
});
export const child = dag({ id: 'child', params: { type: 'object', required: ['day'], properties: {
  day: { type: 'string' }, changed: { type: 'string' }, n: { type: 'string', pattern: '^[0-9]+$' } } } }, (d) => {
  d.task('echo', (ctx) => ctx.params);
});
`;

for (const backend of STORE_BACKENDS) {
  describe(`trigger_dag on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('creates one run of the other DAG with rendered params, once whatever the re-runs', async () => {
      rt = await startTestRuntime(backend, { 'trigger.ts': PIPELINES });
      const ops = rt.runtime.ops;
      await ops.triggerRun('parent', { runId: 'p1', logicalDate: '2026-03-04T00:00:00Z' });
      expect((await rt.waitForRun('parent', 'p1')).state).toBe('success');
      expect((await ops.getTaskInstance('parent', 'p1', 'trigger')).result).toEqual({
        dagId: 'child',
        runId: 'triggered__parent.trigger__p1',
      });
      const child = await rt.waitForRun('child', 'triggered__parent.trigger__p1');
      expect(child).toMatchObject({ state: 'success', runType: 'manual' });
      expect(child.params).toEqual({ day: '2026-03-04', changed: '2', n: '3' });
      expect((await ops.getTaskInstance('child', child.runId, 'echo')).result).toEqual(
        child.params,
      );

      await ops.clearTasks('parent', 'p1', ['trigger'], { downstream: false });
      expect((await rt.waitForRun('parent', 'p1')).state).toBe('success');
      expect((await ops.listRuns('child')).map((r) => r.runId)).toEqual([
        'triggered__parent.trigger__p1',
      ]);
    }, 120_000);

    it('triggers nothing when the task deciding skips', async () => {
      rt = await startTestRuntime(backend, { 'trigger.ts': PIPELINES });
      await rt.runtime.ops.triggerRun('parent', { runId: 'quiet', params: { skip: true } });
      const run = await rt.waitForRun('parent', 'quiet');
      expect(run.tasks.map((t) => [t.taskId, t.state])).toEqual([
        ['decide', 'skipped'],
        ['trigger', 'skipped'],
      ]);
      expect(await rt.runtime.ops.listRuns('child')).toEqual([]);
    }, 120_000);

    it('fails the task on an unknown DAG or params the DAG refuses, saying why', async () => {
      rt = await startTestRuntime(backend, { 'trigger.ts': PIPELINES });
      const ops = rt.runtime.ops;
      await ops.triggerRun('parent', { runId: 'typo', params: { target: 'chlid' } });
      await ops.triggerRun('parent', { runId: 'bad', params: { n: 'many' } });
      for (const runId of ['typo', 'bad']) {
        expect((await rt.waitForRun('parent', runId)).state).toBe('failed');
      }
      const typo = await ops.getTaskInstance('parent', 'typo', 'trigger');
      expect(typo.attempts.at(-1)?.error).toContain(
        "parent.trigger triggers dag 'chlid', which does not exist (did you mean 'child'?)",
      );
      const bad = await ops.getTaskInstance('parent', 'bad', 'trigger');
      expect(bad.attempts.at(-1)?.error).toContain(
        `parent.trigger triggers dag 'child': param 'n': must match pattern "^[0-9]+$"`,
      );
      expect(await ops.listRuns('child')).toEqual([]);
    }, 120_000);
  });
}
