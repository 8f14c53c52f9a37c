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

/** `ts` tasks using `ctx.datasets`, in one worker process that reports when DuckDB loads. */
const TS_PIPELINE = `
import { dag } from 'updraft';
const duckdbLoaded = () => process.report.getReport().sharedObjects.some((file) => file.includes('duckdb'));
export const reviews = dag({ id: 'reviews' }, (d) => {
  const plain = d.task('plain', async () => ({ duckdbLoaded: duckdbLoaded() }));
  const write = d.task('write', { outlets: ['reviews'] }, async (ctx) =>
    ctx.datasets.write('reviews', [
      { id: 1, body: 'great value, great fit' },
      { id: 2, body: 'bad seams' },
      { id: 3, body: 'great' },
    ]),
  );
  const score = d.task('score', { inlets: ['reviews'], outlets: ['review_scores'] }, async (ctx) => {
    const scored = [];
    for await (const batch of ctx.datasets.batches('reviews', { batchSize: 2 })) {
      for (const review of batch) {
        const words = String(review.body).split(/\\W+/);
        scored.push({ id: review.id, score: words.filter((w) => w === 'great').length - words.filter((w) => w === 'bad').length });
      }
    }
    const written = await ctx.datasets.write('review_scores', scored, { schema: { id: 'BIGINT', score: 'INTEGER' } });
    return { written, duckdbLoaded: duckdbLoaded() };
  });
  d.chain(plain, write, score);
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

    it('runs ts tasks that write and read datasets in a worker, loading DuckDB only when used', async () => {
      rt = await startTestRuntime(backend, { 'reviews.ts': TS_PIPELINE }, { workers: 1 });
      await rt.runtime.ops.triggerRun('reviews', { runId: 'r1' });
      const run = await rt.waitForRun('reviews', 'r1', 60_000);
      expect(run.state).toBe('success');
      const result = async (taskId: string) =>
        (await rt?.runtime.ops.getTaskInstance('reviews', 'r1', taskId))?.result;
      // The same worker ran all three: DuckDB was not loaded until a task used a dataset.
      expect(await result('plain')).toEqual({ duckdbLoaded: false });
      expect(await result('score')).toMatchObject({
        written: { dataset: 'review_scores', rows: 3 },
        duckdbLoaded: true,
      });
      const ops = new StoreDatasetOperations({
        store: rt.runtime.store,
        storage: new LocalDatasetStorage(datasetsRootForHome(rt.home)),
        secrets: () => SecretBox.fromEnv({}),
        connectionsFile: `${rt.home}/connections.yaml`,
      });
      const scores = await ops.showVersion('review_scores');
      expect(scores.manifest.producedBy).toMatchObject({ dagId: 'reviews', taskId: 'score' });
      expect(scores.manifest.inputs).toEqual([{ dataset: 'reviews', version: 1 }]);
      expect(scores.manifest.schema.map((c) => `${c.name} ${c.type}`)).toEqual([
        'id BIGINT',
        'score INTEGER',
      ]);
      expect(await readVersionRows(scores.location, 'id')).toEqual([
        { id: '1', score: 2 },
        { id: '2', score: -1 },
        { id: '3', score: 1 },
      ]);
    }, 120_000);
  });
}
