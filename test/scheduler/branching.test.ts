/**
 * Branching through the whole engine: a branch task's result picks which of its direct
 * downstream tasks run (one, several, none), the others are skipped in the transaction
 * that records its success and trigger rules carry on (a join runs after whichever ran);
 * a choice that is no downstream task or no string fails without retry, naming the task,
 * the value and the valid ids; clearing the branch task chooses again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

/** `plan` follows the `way` param, or the JSON in the file named by `wayFile`. */
const BRANCHING = `
import { readFileSync } from 'node:fs';
import { dag } from 'updraft';
export default dag({ id: 'branching' }, (d) => {
  const plan = d.task('plan', { branch: true, retries: 2, retryDelay: '1s' }, (ctx) =>
    ctx.params.wayFile ? JSON.parse(readFileSync(String(ctx.params.wayFile), 'utf8')) : ctx.params.way,
  );
  const list = d.task('list', () => ['x', 'y']);
  const a = d.task('a', { upstream: [plan] }, () => 'ran a');
  const b = d.task('b', { upstream: [plan] }, () => 'ran b');
  const group = d.group('grp', (g) => {
    g.task('c', { upstream: [plan] }, () => 'ran c');
  });
  const each = d.task('each', { upstream: [plan], mapOver: { upstream: list } }, (ctx) => ctx.item);
  const after = d.task('after_a', { upstream: [a] }, () => 'after a');
  d.task('join', { upstream: [after, b, group, each], triggerRule: 'none_failed_min_one_success' }, (ctx) =>
    Object.keys(ctx.upstream).sort(),
  );
});
`;

type States = [string, string][];

for (const backend of STORE_BACKENDS) {
  describe(`branching on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    const states = async (runId: string): Promise<States> => {
      const run = await rt!.waitForRun('branching', runId, 60_000);
      return run.tasks.map((t) => [t.taskId, t.state]);
    };

    it('runs the chosen downstream tasks, skips the others, and the join runs after them', async () => {
      rt = await startTestRuntime(backend, { 'branching.ts': BRANCHING });
      const ops = rt.runtime.ops;
      await ops.triggerRun('branching', { runId: 'one', params: { way: 'a' } });
      await ops.triggerRun('branching', { runId: 'two', params: { way: ['grp.c', 'each'] } });
      await ops.triggerRun('branching', { runId: 'none', params: { way: [] } });
      expect(await states('one')).toEqual([
        ['plan', 'success'],
        ['list', 'success'],
        ['a', 'success'],
        ['b', 'skipped'],
        ['grp.c', 'skipped'],
        ['each', 'skipped'],
        ['after_a', 'success'],
        ['join', 'success'],
      ]);
      expect((await ops.getRun('branching', 'one')).state).toBe('success');
      // A skipped mapped task hands its downstream an empty list, as when it maps over none.
      expect((await ops.getTaskInstance('branching', 'one', 'join')).result).toEqual([
        'after_a',
        'each',
      ]);
      expect((await ops.getTaskInstance('branching', 'one', 'plan')).result).toBe('a');
      expect(await states('two')).toEqual([
        ['plan', 'success'],
        ['list', 'success'],
        ['a', 'skipped'],
        ['b', 'skipped'],
        ['grp.c', 'success'],
        ['each', 'success'],
        ['each', 'success'],
        ['after_a', 'skipped'],
        ['join', 'success'],
      ]);
      expect(await states('none')).toEqual([
        ['plan', 'success'],
        ['list', 'success'],
        ['a', 'skipped'],
        ['b', 'skipped'],
        ['grp.c', 'skipped'],
        ['each', 'skipped'],
        ['after_a', 'skipped'],
        ['join', 'skipped'],
      ]);
      expect((await ops.getRun('branching', 'none')).state).toBe('success');
      // The branch task's log says what it chose.
      const log = readFileSync(await ops.taskLogPath('branching', 'one', 'plan'), 'utf8');
      expect(log).toContain('branch: follows a; skips b, grp.c, each');
    }, 120_000);

    it('fails a choice that is no direct downstream task, or no string, without retry', async () => {
      rt = await startTestRuntime(backend, { 'branching.ts': BRANCHING });
      const ops = rt.runtime.ops;
      await ops.triggerRun('branching', { runId: 'unknown', params: { way: ['a', 'after_a'] } });
      await ops.triggerRun('branching', { runId: 'number', params: { way: 42 } });
      const valid = "its direct downstream tasks are 'a', 'b', 'grp.c', 'each'";
      expect(await states('unknown')).toEqual([
        ['plan', 'failed'],
        ['list', 'success'],
        ['a', 'upstream_failed'],
        ['b', 'upstream_failed'],
        ['grp.c', 'upstream_failed'],
        ['each', 'upstream_failed'],
        ['after_a', 'upstream_failed'],
        ['join', 'upstream_failed'],
      ]);
      expect((await ops.getRun('branching', 'unknown')).state).toBe('failed');
      const unknown = await ops.getTaskInstance('branching', 'unknown', 'plan');
      expect(unknown.tryNumber).toBe(1);
      expect(unknown.attempts.map((a) => [a.state, a.exitReason, a.error])).toEqual([
        [
          'failed',
          'error_no_retry',
          `branch task 'plan' chose 'after_a', not among its direct downstream tasks: ${valid}`,
        ],
      ]);
      await states('number');
      const number = await ops.getTaskInstance('branching', 'number', 'plan');
      expect(number.attempts.map((a) => [a.exitReason, a.error])).toEqual([
        [
          'error_no_retry',
          `branch task 'plan' returned 42, not a task id or a list of task ids: ${valid} (an empty list skips them all)`,
        ],
      ]);
    }, 120_000);

    it('chooses again when the branch task is cleared, alone or with its downstream', async () => {
      rt = await startTestRuntime(backend, { 'branching.ts': BRANCHING });
      const ops = rt.runtime.ops;
      const wayFile = path.join(rt.home, 'way.json');
      writeFileSync(wayFile, JSON.stringify('a'));
      await ops.triggerRun('branching', { runId: 'r', params: { wayFile } });
      expect((await states('r')).filter(([id]) => id === 'a' || id === 'b')).toEqual([
        ['a', 'success'],
        ['b', 'skipped'],
      ]);
      const rerun = async (options: { downstream?: boolean }) => {
        const before = (await ops.getTaskInstance('branching', 'r', 'plan')).tryNumber;
        const { cleared } = await ops.clearTasks('branching', 'r', ['plan'], options);
        await rt!.waitFor(
          async () => {
            const plan = await ops.getTaskInstance('branching', 'r', 'plan');
            const run = await ops.getRun('branching', 'r');
            return plan.tryNumber > before && run.state === 'success' ? run : undefined;
          },
          'the cleared branch task to run again',
          60_000,
        );
        return cleared.sort();
      };
      // With its downstream: everything below is decided again.
      writeFileSync(wayFile, JSON.stringify('b'));
      expect(await rerun({ downstream: true })).toEqual([
        'a',
        'after_a',
        'b',
        'each',
        'grp.c',
        'join',
        'plan',
      ]);
      expect(await states('r')).toEqual([
        ['plan', 'success'],
        ['list', 'success'],
        ['a', 'skipped'],
        ['b', 'success'],
        ['grp.c', 'skipped'],
        ['each', 'skipped'],
        ['after_a', 'skipped'],
        ['join', 'success'],
      ]);
      // Alone: the tasks it skipped (and those skipped after them) are cleared with it.
      writeFileSync(wayFile, JSON.stringify(['a', 'b']));
      expect(await rerun({})).toEqual(['a', 'after_a', 'each', 'grp.c', 'plan']);
      expect(await states('r')).toEqual([
        ['plan', 'success'],
        ['list', 'success'],
        ['a', 'success'],
        ['b', 'success'],
        ['grp.c', 'skipped'],
        ['each', 'skipped'],
        ['after_a', 'success'],
        ['join', 'success'],
      ]);
    }, 120_000);
  });
}
