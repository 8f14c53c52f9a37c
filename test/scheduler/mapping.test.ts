/**
 * Run-time task mapping through the whole engine: one task instance per item of an
 * upstream result, results collected downstream, empty lists skipped, bad values and
 * lists over the cap failing with the reason, clearing re-expanding.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const MAPPED = `
import { dag } from 'updraft';
export default dag({ id: 'mapped', params: { type: 'object', properties: { files: { default: ['a.csv', 'b.csv', 'c.csv'] } } } }, (d) => {
  const list = d.task('list', (ctx) => ({ files: ctx.params.files }));
  const size = d.task('size', { mapOver: { upstream: list, path: 'files', maxItems: 5 } }, (ctx) =>
    \`\${ctx.item}#\${ctx.mapIndex}\`,
  );
  const echo = d.shell('echo', { command: 'echo "{{ item }} {{ map_index }}"', returnOutput: 'last_line' }, { mapOver: { upstream: list, path: 'files', maxItems: 5 } });
  const collect = d.task('collect', (ctx) => ({ sizes: ctx.upstream.size, echoes: ctx.upstream.echo }));
  size.before(collect);
  echo.before(collect);
});
`;

for (const backend of STORE_BACKENDS) {
  describe(`task mapping on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('runs one instance per item and hands the list of results downstream', async () => {
      rt = await startTestRuntime(backend, { 'mapped.ts': MAPPED });
      await rt.runtime.ops.triggerRun('mapped', { runId: 'r1' });
      const done = await rt.waitForRun('mapped', 'r1');
      expect(done.state).toBe('success');
      expect(done.tasks.map((t) => [t.taskId, t.mapIndex, t.state])).toEqual([
        ['list', -1, 'success'],
        ['size', 0, 'success'],
        ['size', 1, 'success'],
        ['size', 2, 'success'],
        ['echo', 0, 'success'],
        ['echo', 1, 'success'],
        ['echo', 2, 'success'],
        ['collect', -1, 'success'],
      ]);
      expect(done.tasks.filter((t) => t.taskId === 'echo').map((t) => t.tryNumber)).toEqual([
        1, 1, 1,
      ]);
      const collect = await rt.runtime.ops.getTaskInstance('mapped', 'r1', 'collect');
      expect(collect.result).toEqual({
        sizes: ['a.csv#0', 'b.csv#1', 'c.csv#2'],
        echoes: ['a.csv 0', 'b.csv 1', 'c.csv 2'],
      });
      const second = await rt.runtime.ops.getTaskInstance('mapped', 'r1', 'size', 1);
      expect(second).toMatchObject({ mapIndex: 1, result: 'b.csv#1', tryNumber: 1 });
      expect(await rt.runtime.ops.taskLogPath('mapped', 'r1', 'size', undefined, 2)).toMatch(
        /task_id=size\/map_index=2\/attempt=1\.log$/,
      );
    }, 120_000);

    it('skips a mapped task over an empty list, and what needs it', async () => {
      rt = await startTestRuntime(backend, { 'mapped.ts': MAPPED });
      await rt.runtime.ops.triggerRun('mapped', { runId: 'empty', params: { files: [] } });
      const done = await rt.waitForRun('mapped', 'empty');
      expect(done.state).toBe('success');
      expect(done.tasks.map((t) => [t.taskId, t.mapIndex, t.state])).toEqual([
        ['list', -1, 'success'],
        ['size', -1, 'skipped'],
        ['echo', -1, 'skipped'],
        ['collect', -1, 'skipped'],
      ]);
    }, 120_000);

    it('fails a mapped task over more items than maxItems, or over a value that is no list, saying why', async () => {
      rt = await startTestRuntime(backend, { 'mapped.ts': MAPPED });
      const files = ['1', '2', '3', '4', '5', '6'];
      await rt.runtime.ops.triggerRun('mapped', { runId: 'big', params: { files } });
      await rt.runtime.ops.triggerRun('mapped', { runId: 'odd', params: { files: 'a.csv' } });
      const big = await rt.waitForRun('mapped', 'big');
      expect(big.state).toBe('failed');
      const size = await rt.runtime.ops.getTaskInstance('mapped', 'big', 'size');
      expect(size).toMatchObject({ mapIndex: -1, state: 'failed', tryNumber: 1 });
      expect(size.attempts[0]).toMatchObject({
        state: 'failed',
        exitReason: 'error_no_retry',
        error: "cannot map over the result of 'list' at 'files': 6 items is more than maxItems 5",
      });
      expect((await rt.runtime.ops.getTaskInstance('mapped', 'big', 'collect')).state).toBe(
        'upstream_failed',
      );
      const odd = await rt.waitForRun('mapped', 'odd');
      expect(odd.state).toBe('failed');
      expect(
        (await rt.runtime.ops.getTaskInstance('mapped', 'odd', 'echo')).attempts[0]?.error,
      ).toBe("cannot map over the result of 'list' at 'files': expected an array, got a string");
    }, 120_000);

    it('expands again when cleared, continuing the try numbers of each instance', async () => {
      rt = await startTestRuntime(backend, { 'mapped.ts': MAPPED });
      await rt.runtime.ops.triggerRun('mapped', { runId: 'r1' });
      await rt.waitForRun('mapped', 'r1');
      await rt.runtime.ops.clearTasks('mapped', 'r1', ['size'], { downstream: true });
      const again = await rt.waitFor(async () => {
        const run = await rt!.runtime.ops.getRun('mapped', 'r1');
        return run.state === 'success' &&
          run.tasks.filter((t) => t.taskId === 'size').every((t) => t.tryNumber === 2)
          ? run
          : undefined;
      }, 'the cleared mapped task to run again');
      expect(again.tasks.filter((t) => t.taskId === 'size').map((t) => t.mapIndex)).toEqual([
        0, 1, 2,
      ]);
      const first = await rt.runtime.ops.getTaskInstance('mapped', 'r1', 'size', 0);
      expect(first.attempts.map((a) => [a.tryNumber, a.state])).toEqual([
        [1, 'success'],
        [2, 'success'],
      ]);
    }, 120_000);
  });
}
