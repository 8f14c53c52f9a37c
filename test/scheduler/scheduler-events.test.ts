/**
 * The scheduler's committed events (what notifications and metrics listen to), through
 * the whole engine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SchedulerEvent } from '../../src/scheduler/scheduler-events.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PIPELINE = `
import { dag } from 'updraft';
export default dag({ id: 'events', notify: { onFailure: ['oncall'] } }, (d) => {
  const a = d.task('a', { retries: 1, retryDelay: 0 }, (ctx) => {
    if (ctx.tryNumber === 1) throw new Error('first try fails');
    return 1;
  });
  d.task('b', () => { throw new Error('b is broken'); }).after(a);
});
`;

for (const backend of STORE_BACKENDS) {
  describe(`scheduler events on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('reports queued, started and finished attempts and finished runs, after commit', async () => {
      rt = await startTestRuntime(backend, { 'events.ts': PIPELINE });
      const events: Exclude<SchedulerEvent, { type: 'tick' }>[] = [];
      rt.runtime.scheduler?.onEvent((event) => {
        if (event.type !== 'tick') events.push(event);
      });
      await rt.runtime.ops.triggerRun('events', { runId: 'r1' });
      await rt.waitForRun('events', 'r1');
      await rt.waitFor(
        async () => (events.some((e) => e.type === 'run_finished') ? true : undefined),
        'the run_finished event',
      );
      const summary = events.map((e) =>
        e.type === 'run_finished'
          ? [e.type, e.runId, e.state, e.spec.notify.onFailure]
          : e.type === 'attempt_finished'
            ? [e.type, e.key.taskId, e.key.tryNumber, e.state, e.error]
            : [e.type, e.key.taskId, e.key.tryNumber],
      );
      expect(summary).toEqual([
        ['attempt_queued', 'a', 1],
        ['attempt_started', 'a', 1],
        ['attempt_finished', 'a', 1, 'up_for_retry', 'first try fails'],
        ['attempt_queued', 'a', 2],
        ['attempt_started', 'a', 2],
        ['attempt_finished', 'a', 2, 'success', null],
        ['attempt_queued', 'b', 1],
        ['attempt_started', 'b', 1],
        ['attempt_finished', 'b', 1, 'failed', 'b is broken'],
        ['run_finished', 'r1', 'failed', ['oncall']],
      ]);
      const finished = events.find((e) => e.type === 'attempt_finished');
      expect(finished).toMatchObject({
        startedAt: expect.any(Number),
        queuedAt: expect.any(Number),
      });
    });
  });
}
