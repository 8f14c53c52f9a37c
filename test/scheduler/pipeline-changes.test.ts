/**
 * Pipelines change while Updraft runs: a bad file beside good ones, a fix, an edit — all
 * picked up without a restart, and one file's error never disturbs the others.
 * On PostgreSQL, a run created by another process wakes the scheduler (LISTEN/NOTIFY).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { StoreOperations } from '../../src/ops/store-operations.ts';
import { openPostgresStore } from '../../src/store/store.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const GOOD = (label: string) => `
import { dag } from 'updraft';
export default dag({ id: 'good', tags: ['${label}'] }, (d) => {
  d.task('t', async () => '${label}');
});
`;
const THROWS = `
import { dag } from 'updraft';
throw new Error('the config service is down');
`;
const FIXED = `
import { dag } from 'updraft';
export default dag({ id: 'was_broken' }, (d) => { d.task('t', async () => 'fixed'); });
`;

for (const backend of STORE_BACKENDS) {
  describe(`pipeline changes on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('a file that throws is reported while the others run; fixing or editing a file needs no restart', async () => {
      rt = await startTestRuntime(backend, { 'good.ts': GOOD('v1'), 'broken.ts': THROWS });
      const [error] = await rt.runtime.ops.listImportErrors();
      expect(error?.fileloc).toBe(path.join(rt.pipelinesDir, 'broken.ts'));
      expect(error?.issues[0]?.message).toContain('the config service is down');
      expect(error?.issues[0]?.line).toBe(3);
      await rt.runtime.ops.triggerRun('good', { runId: 'r1' });
      expect((await rt.waitForRun('good', 'r1')).state).toBe('success');

      writeFileSync(path.join(rt.pipelinesDir, 'broken.ts'), FIXED);
      writeFileSync(path.join(rt.pipelinesDir, 'good.ts'), GOOD('v2'));
      await rt.waitFor(async () => {
        const dags = await rt!.runtime.ops.listDags();
        const errors = await rt!.runtime.ops.listImportErrors();
        const good = dags.find((d) => d.dagId === 'good');
        return errors.length === 0 &&
          dags.some((d) => d.dagId === 'was_broken') &&
          good?.tags[0] === 'v2'
          ? true
          : undefined;
      }, 'the fixed and edited files to be picked up');
      await rt.runtime.ops.triggerRun('good', { runId: 'r2' });
      await rt.waitForRun('good', 'r2');
      expect((await rt.runtime.ops.getTaskInstance('good', 'r2', 't')).result).toBe('v2');
      // The old run keeps the version it ran with.
      expect((await rt.runtime.ops.getRun('good', 'r1')).versionHash).not.toBe(
        (await rt.runtime.ops.getRun('good', 'r2')).versionHash,
      );
    });

    if (backend.name === 'postgres') {
      it('a run triggered by another process is picked up at once (LISTEN/NOTIFY)', async () => {
        // The safety-net pass is a minute away: only the notification can wake the scheduler in time.
        rt = await startTestRuntime(backend, { 'good.ts': GOOD('v1') }, { housekeepingMs: 60_000 });
        await rt.runtime.scheduler!.nextTick(); // past the first (safety-net) pass
        const other = await openPostgresStore(rt.databaseUrl!);
        try {
          await new StoreOperations(other, systemClock).triggerRun('good', { runId: 'from_cli' });
          const run = await rt.waitForRun('good', 'from_cli', 10_000);
          expect(run.state).toBe('success');
        } finally {
          await other.close();
        }
      });
    }
  });
}
