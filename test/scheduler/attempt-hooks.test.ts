/**
 * The engine side of the data layer's contract (`AttemptHooks`), through the whole
 * engine: inputs resolved when a task is queued, effects committed with the success in
 * the same transaction (or turned into a failure when the commit fails), and DAGs
 * scheduled on datasets triggered by the versions committed.
 *
 * The hooks here are a small real implementation over a table of this test's own, so
 * the engine's contract is tested apart from the data layer's storage.
 */
import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Json } from '../../src/core/dag-spec.ts';
import type { AttemptHooks } from '../../src/scheduler/attempt-hooks.ts';
import type { Db } from '../../src/store/store.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PRODUCER = `
import { dag } from 'updraft';
export default dag({ id: 'producer', params: { type: 'object', properties: { names: { default: ['orders'] }, failFirstCommit: { default: false } } } }, (d) => {
  d.task('write', { retries: 1, retryDelay: 0 }, (ctx) => {
    for (const name of ctx.params.names) {
      ctx.addEffect({ kind: 'version', data: { name, fail: ctx.params.failFirstCommit && ctx.tryNumber === 1 } });
    }
    return 'written';
  });
});
`;

const CONSUMERS = `
import { dag } from 'updraft';
export const one = dag({ id: 'consumer', schedule: { datasets: ['orders'] } }, (d) => {
  d.task('read', { inlets: ['orders'] }, (ctx) => ({ inputs: ctx.inputs, password: ctx.connection('warehouse').password }));
  d.shell('echo', { command: 'echo v{{ inputs.orders.version }}', returnOutput: 'last_line' }, { inlets: ['orders'] });
});
export const both = dag({ id: 'needs_both', schedule: { datasets: ['a', 'b'] } }, (d) => {
  d.task('t', () => 'ran');
});
`;

/** Versions per dataset name in a table of the test's own; `fail` makes a commit throw. */
const hooks: AttemptHooks = {
  needsPreparation: (task) => task.inlets.length > 0,
  async prepareAttempt(db, target) {
    const inputs: { [name: string]: Json } = {};
    for (const name of target.task.inlets) {
      const row = await sql<{ v: number | null }>`
        select max(version) as v from test_versions where name = ${name}`.execute(db);
      const version = row.rows[0]?.v;
      if (version === null || version === undefined) {
        throw new Error(`dataset '${name}' has no version yet`);
      }
      inputs[name] = { version };
    }
    return { inputs, connections: { warehouse: 'postgres://etl:s3cret@db:5432/shop' } };
  },
  async commitEffects(db, target, effects) {
    const names: string[] = [];
    for (const effect of effects) {
      const data = effect.data as { name: string; fail: boolean };
      await sql`
        insert into test_versions (name, version, run_id, try_number)
        select ${data.name}, coalesce(max(version), 0) + 1, ${target.runId}, ${target.tryNumber}
          from test_versions where name = ${data.name}`.execute(db);
      if (data.fail) throw new Error('disk full');
      names.push(data.name);
    }
    return { updatedDatasets: names };
  },
};

async function versions(db: Db): Promise<unknown[]> {
  const rows = await sql`
    select name, version, run_id, try_number from test_versions order by name, version`.execute(
    db as Kysely<unknown>,
  );
  return rows.rows;
}

for (const backend of STORE_BACKENDS) {
  describe(`attempt hooks and dataset triggers on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    async function start(): Promise<TestRuntime> {
      const t = await startTestRuntime(
        backend,
        { 'producer.ts': PRODUCER, 'consumers.ts': CONSUMERS },
        { hooks },
      );
      await sql`create table test_versions (name text, version int, run_id text, try_number int)`.execute(
        t.runtime.store.db,
      );
      return t;
    }

    it('commits effects with the success, and runs the DAGs scheduled on the datasets with pinned inputs', async () => {
      rt = await start();
      await rt.runtime.ops.triggerRun('producer', { runId: 'p1' });
      expect((await rt.waitForRun('producer', 'p1')).state).toBe('success');
      expect(await versions(rt.runtime.store.db)).toEqual([
        { name: 'orders', version: 1, run_id: 'p1', try_number: 1 },
      ]);
      const triggered = await rt.waitFor(async () => {
        const runs = await rt!.runtime.ops.listRuns('consumer');
        return runs.length ? runs : undefined;
      }, 'the dataset-triggered run');
      expect(triggered).toHaveLength(1);
      expect(triggered[0]?.runType).toBe('dataset');
      const runId = triggered[0]!.runId;
      expect((await rt.waitForRun('consumer', runId)).state).toBe('success');
      expect((await rt.runtime.ops.getTaskInstance('consumer', runId, 'read')).result).toEqual({
        inputs: { orders: { version: 1 } },
        password: 's3cret',
      });
      expect((await rt.runtime.ops.getTaskInstance('consumer', runId, 'echo')).result).toBe('v1');
      // 'needs_both' waits for both of its datasets.
      expect(await rt.runtime.ops.listRuns('needs_both')).toEqual([]);
    });

    it('turns a failed commit into a failed attempt, undone, and retries it', async () => {
      rt = await start();
      await rt.runtime.ops.triggerRun('producer', {
        runId: 'p1',
        params: { failFirstCommit: true },
      });
      expect((await rt.waitForRun('producer', 'p1')).state).toBe('success');
      const write = await rt.runtime.ops.getTaskInstance('producer', 'p1', 'write');
      expect(write.attempts.map((a) => [a.tryNumber, a.state, a.error])).toEqual([
        [1, 'failed', "committing the attempt's output failed: disk full"],
        [2, 'success', null],
      ]);
      // The failed commit's row was rolled back with it: one version, from try 2.
      expect(await versions(rt.runtime.store.db)).toEqual([
        { name: 'orders', version: 1, run_id: 'p1', try_number: 2 },
      ]);
    });

    it('fails an attempt whose inputs cannot be prepared, naming the reason, without running it', async () => {
      rt = await start();
      await rt.runtime.ops.triggerRun('consumer', { runId: 'c1' });
      expect((await rt.waitForRun('consumer', 'c1')).state).toBe('failed');
      const read = await rt.runtime.ops.getTaskInstance('consumer', 'c1', 'read');
      expect(read.attempts.map((a) => [a.state, a.exitReason, a.startedAt, a.error])).toEqual([
        [
          'failed',
          'error',
          null,
          "preparing the attempt failed: dataset 'orders' has no version yet",
        ],
      ]);
    });

    it('runs a DAG on several datasets once each has a new version, and keeps updates while paused', async () => {
      rt = await start();
      await rt.runtime.ops.setPaused('needs_both', true);
      await rt.runtime.ops.triggerRun('producer', { runId: 'p1', params: { names: ['a'] } });
      await rt.waitForRun('producer', 'p1');
      await rt.runtime.ops.triggerRun('producer', { runId: 'p2', params: { names: ['b'] } });
      await rt.waitForRun('producer', 'p2');
      await rt.runtime.scheduler?.nextTick();
      expect(await rt.runtime.ops.listRuns('needs_both')).toEqual([]);
      await rt.runtime.ops.setPaused('needs_both', false);
      const runs = await rt.waitFor(async () => {
        const list = await rt!.runtime.ops.listRuns('needs_both');
        return list.length ? list : undefined;
      }, 'the run of needs_both');
      expect(runs.map((r) => r.runType)).toEqual(['dataset']);
      expect((await rt.waitForRun('needs_both', runs[0]!.runId)).state).toBe('success');
      // The queue was consumed: another update of 'a' alone triggers nothing.
      await rt.runtime.ops.triggerRun('producer', { runId: 'p3', params: { names: ['a'] } });
      await rt.waitForRun('producer', 'p3');
      await rt.runtime.scheduler?.nextTick();
      expect(await rt.runtime.ops.listRuns('needs_both')).toHaveLength(1);
    });
  });
}
