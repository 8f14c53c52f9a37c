/**
 * Changes made through the control socket's `Operations` are audited (`via: cli`), with
 * their outcome; reads are not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { auditedOperations } from '../../src/auth/audited-operations.ts';
import { createAuth } from '../../src/auth/auth.ts';
import { systemClock } from '../../src/core/clock.ts';
import { NotFoundError } from '../../src/core/errors.ts';
import { StoreOperations } from '../../src/ops/store-operations.ts';
import { syncDagFile } from '../../src/store/queries/dags.ts';
import { dagSpec, loadedFile } from '../support/specs.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

for (const backend of STORE_BACKENDS) {
  describe(`audited operations on ${backend.name}`, () => {
    let t: TestStore | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('records each change with its outcome and passes reads through', async () => {
      t = await backend.open();
      const spec = dagSpec({ dagId: 'etl', tasks: [{ taskId: 'a' }] });
      await syncDagFile(t.store.db, loadedFile('/p/etl.ts', spec), new Date(), false);
      const { audit } = createAuth(t.store, systemClock);
      const ops = auditedOperations(new StoreOperations(t.store, systemClock), audit);

      await ops.setPaused('etl', true);
      const run = await ops.triggerRun('etl', { runId: 'r1' });
      expect(run.runId).toBe('r1');
      await expect(ops.triggerRun('nope')).rejects.toBeInstanceOf(NotFoundError);
      expect((await ops.getDag('etl')).isPaused).toBe(true);
      await ops.listRuns('etl');

      const records = await audit.list();
      expect(records.map((r) => [r.action, r.target, r.outcome, r.via, r.ip])).toEqual([
        ['dag.trigger', 'nope', 'not_found', 'cli', 'control socket'],
        ['dag.trigger', 'etl', 'ok', 'cli', 'control socket'],
        ['dag.pause', 'etl', 'ok', 'cli', 'control socket'],
      ]);
      expect(records[1]?.details).toEqual({ args: [{ runId: 'r1' }] });
    });
  });
}
