import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type DataHarness, openDataHarness, readVersionRows } from './support.ts';

/** A duckdb task writing `dataset` from a literal query. */
function seedTask(taskId: string, dataset: string, query: string) {
  return { taskId, operator: 'duckdb', config: { query, output: dataset }, outlets: [dataset] };
}

for (const backend of STORE_BACKENDS) {
  describe(`duckdb transforms, pinning and lineage on ${backend.name}`, () => {
    let h: DataHarness;
    beforeAll(async () => {
      h = await openDataHarness(backend);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('transforms inlets by alias and version; a re-run reads the versions it pinned', async () => {
      const seed = { runPk: await h.createRun('seed', 's1'), dagId: 'seed', runId: 's1' };
      await h.runTask(
        seed,
        seedTask(
          'customers',
          'customers',
          `select * from (values (1, 'ann'), (2, 'bob')) t(id, name)`,
        ),
      );
      await h.runTask(
        seed,
        seedTask(
          'orders',
          'orders',
          `select * from (values (1, 1, 10.0), (2, 1, 5.5), (3, 2, 7.0)) t(id, customer_id, amount)`,
        ),
      );
      await h.ops.promote('customers', 1, 'prod', { actor: { name: 'alice', role: 'op' } });

      const transform = {
        taskId: 'revenue',
        operator: 'duckdb',
        inlets: ['orders', 'customers@prod'],
        outlets: ['revenue'],
        config: {
          setup: 'create macro twice(x) as x * 2',
          query: `select c.name, sum(o.amount) as total, twice(count(*)) as doubled
                  from orders o join customers c on c.id = o.customer_id group by c.name order by c.name`,
          output: 'revenue',
        },
      };
      const run = { runPk: await h.createRun('report', 'r1'), dagId: 'report', runId: 'r1' };
      const first = await h.runTask(run, transform);
      expect(first.outcome.error?.message).toBeUndefined();
      const v1 = await h.ops.showVersion('revenue@latest');
      expect(await readVersionRows(v1.location)).toEqual([
        { name: 'ann', total: '15.5', doubled: '4' },
        { name: 'bob', total: '7.0', doubled: '2' },
      ]);
      expect(v1.manifest.inputs).toEqual([
        { dataset: 'customers', version: 1 },
        { dataset: 'orders', version: 1 },
      ]);

      // New orders land; the old run, re-run, still reads orders v1.
      await h.runTask(
        seed,
        seedTask(
          'orders',
          'orders',
          `select * from (values (9, 2, 100.0)) t(id, customer_id, amount)`,
        ),
      );
      await h.runTask(run, transform, { tryNumber: 2 });
      const rerun = await h.ops.showVersion('revenue');
      expect(rerun.version).toBe(2);
      expect(rerun.manifest.inputs).toContainEqual({ dataset: 'orders', version: 1 });
      expect((await readVersionRows(rerun.location)).map((r) => r.total)).toEqual(['15.5', '7.0']);

      // A new run reads the latest orders.
      const run2 = { runPk: await h.createRun('report', 'r2'), dagId: 'report', runId: 'r2' };
      await h.runTask(run2, transform);
      expect(
        (await readVersionRows((await h.ops.showVersion('revenue')).location)).map((r) => r.total),
      ).toEqual(['100.0']);

      // An explicit version and a view name of one's own.
      const pinnedRef = await h.runTask(run2, {
        taskId: 'old_orders',
        operator: 'duckdb',
        inlets: ['orders@v1'],
        config: { query: 'select count(*) as n from o', inputs: { o: 'orders@v1' } },
      });
      expect(pinnedRef.outcome.result).toEqual([{ n: '3' }]);
    });

    it('records lineage and etl_runs', async () => {
      const lineage = await h.ops.lineage('revenue');
      expect(lineage.upstream).toEqual(['customers', 'orders']);
      expect(lineage.edges).toContainEqual(
        expect.objectContaining({
          dagId: 'report',
          taskId: 'revenue',
          direction: 'write',
          dataset: 'revenue',
        }),
      );
      expect((await h.ops.lineage('orders')).downstream).toEqual(['revenue']);
      const runs = await h.ops.etlRuns({ dagId: 'report' });
      const r1 = runs.find((r) => r.run_id === 'r1');
      expect(r1?.produced.map((p) => `${p.dataset}@${p.version}`)).toEqual([
        'revenue@1',
        'revenue@2',
      ]);
      expect(r1?.consumed.map((c) => `${c.ref}=${c.dataset}@${c.version}`)).toEqual([
        'customers@prod=customers@1',
        'orders=orders@1',
      ]);
      expect(r1?.rows_written).toBe(4);
    });

    it('fails clearly: an inlet that does not resolve, a dataset read without an inlet, a SQL error', async () => {
      const run = { runPk: await h.createRun('bad', 'b1'), dagId: 'bad', runId: 'b1' };
      const task = {
        taskId: 't',
        operator: 'duckdb',
        inlets: ['customers@staging'],
        config: { query: 'select 1' },
      };
      const target = {
        ...run,
        task: { ...(await import('../support/specs.ts')).taskSpec(task) },
        mapIndex: -1,
        tryNumber: 1,
      };
      await expect(h.store.transaction((tx) => h.hooks.prepareAttempt(tx, target))).rejects.toThrow(
        "task 't' inlet 'customers@staging': dataset 'customers' has no alias 'staging' (aliases: latest → v1, prod → v1); promote a version to it first",
      );
      await expect(
        h.store.transaction((tx) =>
          h.hooks.prepareAttempt(tx, { ...target, task: { ...target.task, inlets: ['custmers'] } }),
        ),
      ).rejects.toThrow("no dataset 'custmers' (did you mean 'customers'?)");
      await expect(
        h.store.transaction((tx) =>
          h.hooks.prepareAttempt(tx, { ...target, task: { ...target.task, inlets: ['../x'] } }),
        ),
      ).rejects.toThrow("'../x' is not a valid dataset name");

      const unread = await h.runTask(run, {
        taskId: 'u',
        operator: 'duckdb',
        config: { query: 'select 1', inputs: { c: 'customers' } },
      });
      expect(unread.outcome.error?.message).toContain(
        "task 'u' reads dataset 'customers', which is not among its inlets (inlets: none)",
      );

      const broken = await h.runTask(run, {
        taskId: 'broken',
        operator: 'duckdb',
        inlets: ['customers'],
        config: { query: 'select nme from customers', output: 'y' },
      });
      expect(broken.outcome.error?.message).toMatch(
        /task 'broken' writing dataset 'y': DuckDB error: Binder Error: .*nme/,
      );
      expect((await h.ops.listDatasets()).map((d) => d.name)).not.toContain('y');
      expect(await h.storage.listStaging()).toHaveLength(1); // left for vacuum, never visible
    });
  });
}
