/**
 * A YAML pipeline with a `quality` task in the whole engine (scheduler, worker
 * processes, store), with the quality hooks composed around the data layer's as the
 * runtime wires them: a blocking failure fails the check without retry, the task that
 * needs the data does not run, and the results are stored; clean data flows through.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDataHooks } from '../../src/data/attempt-hooks.ts';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import { createQualityOperations } from '../../src/quality/quality-operations.ts';
import type { AttemptHooks } from '../../src/scheduler/attempt-hooks.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PIPELINE = `
dags:
  orders_etl:
    params:
      type: object
      properties:
        bad: { type: integer, default: 0 }
    tasks:
      make:
        operator: duckdb
        outlets: [orders]
        config:
          query: "select range as id, case when range < {{ params.bad }} then -1 else range end as amount from range(50)"
          output: orders
      check:
        operator: quality
        upstream: [make]
        inlets: [orders]
        retries: 2
        retryDelay: 0s
        config:
          checks:
            - { type: range, column: amount, min: 0, blocking: true }
            - { type: unique, column: id, severity: warn }
      publish:
        operator: duckdb
        upstream: [check]
        inlets: [orders]
        outlets: [orders_total]
        config:
          query: "select sum(amount) as total from orders"
          output: orders_total
`;

for (const backend of STORE_BACKENDS) {
  describe(`a quality gate in a YAML pipeline on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('stops downstream tasks on a blocking failure, without retry, and lets clean data through', async () => {
      // The hooks need the home folder, which the test runtime creates: bind them late.
      let hooks: AttemptHooks | undefined;
      const late: AttemptHooks = {
        needsPreparation: (task) => hooks?.needsPreparation(task) ?? false,
        prepareAttempt: (db, target) => (hooks as AttemptHooks).prepareAttempt(db, target),
        commitEffects: (db, target, effects) =>
          (hooks as AttemptHooks).commitEffects(db, target, effects),
      };
      rt = await startTestRuntime(backend, { 'etl.yaml': PIPELINE }, { hooks: late });
      const home = rt.home;
      hooks = withQualityHooks(createDataHooks({ home }), { home });
      const quality = createQualityOperations(rt.runtime.store, home);
      expect(await rt.runtime.ops.listImportErrors()).toEqual([]);

      await rt.runtime.ops.triggerRun('orders_etl', { runId: 'bad', params: { bad: 3 } });
      const bad = await rt.waitForRun('orders_etl', 'bad', 90_000);
      expect(bad.state).toBe('failed');
      const states = Object.fromEntries(bad.tasks.map((t) => [t.taskId, t]));
      expect(states.make?.state).toBe('success');
      expect(states.check?.state).toBe('failed');
      expect(states.check?.tryNumber).toBe(1);
      expect(states.publish?.state).toBe('upstream_failed');
      const results = await quality.latestResults('orders');
      expect(results.map((r) => [r.checkId, r.status, r.runId])).toEqual([
        ['range.amount', 'error', 'bad'],
        ['unique.id', 'pass', 'bad'],
      ]);

      await rt.runtime.ops.triggerRun('orders_etl', { runId: 'good' });
      const good = await rt.waitForRun('orders_etl', 'good', 90_000);
      expect(good.state).toBe('success');
      expect((await quality.latestResults('orders')).every((r) => r.status === 'pass')).toBe(true);
    }, 200_000);
  });
}
