/**
 * The data layer in the whole engine: real scheduler, worker processes and store, with
 * the data hooks the runtime wires in. A producer DAG writes a dataset; a DAG
 * scheduled on that dataset runs when the version lands and reads it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StoreDatasetOperations } from '../../src/data/dataset-operations.ts';
import { SecretBox } from '../../src/data/secret-box.ts';
import { datasetsRootForHome, LocalDatasetStorage } from '../../src/data/storage.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { readVersionRows } from './support.ts';

const PIPELINE = `
import { dag } from 'updraft';
export const producer = dag({ id: 'producer', params: { type: 'object', properties: { n: { type: 'integer', default: 3 } } } }, (d) => {
  d.operator('duckdb', 'make', { query: 'select range as id from range({{ params.n }})', output: 'numbers' }, { outlets: ['numbers'], retries: 1, retryDelay: 0 });
});
export const consumer = dag({ id: 'consumer', schedule: { datasets: ['numbers'] }, startDate: '2026-01-01' }, (d) => {
  d.operator('duckdb', 'total', { query: 'select count(*) as n, sum(id) as s from numbers', output: 'totals' }, { inlets: ['numbers'], outlets: ['totals'] });
});
`;

for (const backend of STORE_BACKENDS) {
  describe(`datasets through the engine on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('commits versions from worker processes and runs the DAG scheduled on them', async () => {
      // The runtime wires the data hooks itself (createDataHooks on its home).
      rt = await startTestRuntime(backend, { 'data.ts': PIPELINE });
      const storage = new LocalDatasetStorage(datasetsRootForHome(rt.home));
      const ops = new StoreDatasetOperations({
        store: rt.runtime.store,
        storage,
        secrets: () => SecretBox.fromEnv({}),
        connectionsFile: `${rt.home}/connections.yaml`,
      });

      await rt.runtime.ops.triggerRun('producer', { runId: 'p1', params: { n: 5 } });
      const produced = await rt.waitForRun('producer', 'p1', 60_000);
      expect(produced.state).toBe('success');
      expect((await ops.showVersion('numbers')).rows).toBe(5);

      const consumed = await rt.waitFor(
        async () => {
          const runs = await rt?.runtime.ops.listRuns('consumer');
          const run = runs?.find((r) => r.state === 'success' || r.state === 'failed');
          return run;
        },
        'a dataset-triggered run of consumer',
        60_000,
      );
      expect(consumed.state).toBe('success');
      const totals = await ops.showVersion('totals');
      expect(await readVersionRows(totals.location)).toEqual([{ n: '5', s: 10 }]);
      expect(totals.manifest.inputs).toEqual([{ dataset: 'numbers', version: 1 }]);
      expect((await ops.lineage('totals')).upstream).toEqual(['numbers']);
    }, 120_000);
  });
}
