/**
 * Promotion from a pipeline (`promote` tasks), on both stores: the alias moves with the
 * task's success, under the alias's policy with the `pipeline` role, recorded in the
 * alias history; refusals (failed blocking checks, a role pipelines lack, a missing
 * approval) fail the task without retry and say what to do; an attempt that fails or
 * is superseded (try-number fence) moves nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../../src/core/dag-spec.ts';
import { StoreDatasetOperations } from '../../src/data/dataset-operations.ts';
import { aliasPromotionEffect } from '../../src/data/effects.ts';
import { SecretBox } from '../../src/data/secret-box.ts';
import { datasetsRootForHome, LocalDatasetStorage } from '../../src/data/storage.ts';
import { YamlSource } from '../../src/loader/yaml/yaml-source.ts';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import { commitAttemptEffects } from '../../src/scheduler/attempt-effects.ts';
import type { EnqueuedAttempt, SpecLookup } from '../../src/scheduler/transitions.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { taskSpec } from '../support/specs.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { attemptRequest, type DataHarness, openDataHarness } from './support.ts';

/** Spec lookups for triggered runs, which these reports do not ask for. */
const noSpecs: SpecLookup = () => Promise.reject(new Error('no DAG specs in this test'));

/** make → check (blocking) → promote to staging, in YAML. */
const YAML_PIPELINE = `
dags:
  promote_ok:
    tasks:
      make:
        operator: duckdb
        outlets: [orders]
        config:
          query: "select range as id, range * 2 as amount from range(10)"
          output: orders
      check:
        operator: quality
        upstream: [make]
        inlets: [orders]
        config:
          checks:
            - { type: range, column: amount, min: 0, blocking: true }
      promote:
        operator: promote
        upstream: [check]
        inlets: [orders]
        config:
          to: staging
          reason: "checks passed for {{ ds }}"
`;

const TS_PIPELINE = `
import { dag } from 'updraft';

// A blocking check fails; the promote task runs anyway (all_done) and is refused.
export const bad = dag({ id: 'promote_bad' }, (d) => {
  const make = d.operator('duckdb', 'make', { query: 'select -1 as amount', output: 'bad_orders' }, { outlets: ['bad_orders'] });
  const check = d.operator('quality', 'check', { checks: [{ type: 'range', column: 'amount', min: 0, blocking: true }] }, { inlets: ['bad_orders'], upstream: [make] });
  d.operator('promote', 'promote', { to: 'staging' }, { inlets: ['bad_orders'], upstream: [check], triggerRule: 'all_done', retries: 2, retryDelay: 0 });
});

// prod needs a role pipelines lack by default; 'gold' has a policy that requires approval.
export const prod = dag({ id: 'promote_prod' }, (d) => {
  d.operator('promote', 'to_prod', { to: 'prod' }, { inlets: ['orders@staging'], retries: 1, retryDelay: 0 });
  d.operator('promote', 'to_gold', { dataset: 'orders@staging', to: 'gold' }, { inlets: ['orders@staging', 'orders'], retries: 1, retryDelay: 0 });
});

// The attempt asks for a move, then fails: nothing moves.
export const failing = dag({ id: 'promote_failing' }, (d) => {
  d.task('promote_then_fail', { inlets: ['orders'] }, (ctx) => {
    const input = ctx.inputs.orders as { dataset: string; version: number };
    ctx.addEffect({ kind: 'alias_promotion', data: { dataset: input.dataset, version: input.version, alias: 'broken', reason: 'never' } });
    throw new Error('failed after asking for the promotion');
  });
});
`;

describe('promote task configs', () => {
  it('refuses a bad alias at load time, naming the file, line and field', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-promote-'));
    try {
      const file = path.join(dir, 'p.yaml');
      writeFileSync(file, YAML_PIPELINE.replace('to: staging', 'to: "stag ing"'));
      const [result] = await new YamlSource({ pipelinesDir: dir }).load([file]);
      expect(result?.issues).toEqual([
        {
          file,
          line: 23,
          column: 15,
          dagId: 'promote_ok',
          field: 'dags.promote_ok.tasks.promote.config.to',
          message: 'must match pattern "^[A-Za-z_][A-Za-z0-9_-]{0,63}$", got "stag ing"',
          hint: expect.stringContaining("Alias to move (e.g. 'staging')"),
        },
      ]);
      expect(result?.dags).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const backend of STORE_BACKENDS) {
  describe(`promote tasks through the engine on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('promotes after passing checks, refuses what the policy forbids, and moves nothing for a failed attempt', async () => {
      rt = await startTestRuntime(backend, {
        'promote.yaml': YAML_PIPELINE,
        'promote.ts': TS_PIPELINE,
      });
      const ops = new StoreDatasetOperations({
        store: rt.runtime.store,
        storage: new LocalDatasetStorage(datasetsRootForHome(rt.home)),
        secrets: () => SecretBox.fromEnv({}),
        connectionsFile: `${rt.home}/connections.yaml`,
      });
      const attemptsOf = async (dagId: string, runId: string, taskId: string) =>
        (await rt!.runtime.ops.getTaskInstance(dagId, runId, taskId)).attempts.map((a) => ({
          tryNumber: a.tryNumber,
          state: a.state,
          error: a.error,
        }));

      // Checks pass: staging moves to the version made and checked in this run.
      await rt.runtime.ops.triggerRun('promote_ok', { runId: 'r1' });
      expect((await rt.waitForRun('promote_ok', 'r1', 60_000)).state).toBe('success');
      expect((await ops.showVersion('orders@staging')).version).toBe(1);
      expect((await rt.runtime.ops.getTaskInstance('promote_ok', 'r1', 'promote')).result).toEqual({
        dataset: 'orders',
        version: 1,
        alias: 'staging',
      });
      const [event] = await ops.aliasHistory('orders', 'staging');
      expect(event).toMatchObject({
        action: 'promote',
        fromVersion: null,
        toVersion: 1,
        actor: 'pipeline:promote_ok/r1/promote',
        actorRole: 'pipeline',
      });
      expect(event?.reason).toMatch(/^checks passed for \d{4}-\d{2}-\d{2}$/);

      // A failed blocking check: the promote task runs (all_done) and is refused, no retry.
      await rt.runtime.ops.triggerRun('promote_bad', { runId: 'b1' });
      expect((await rt.waitForRun('promote_bad', 'b1', 60_000)).state).toBe('failed');
      const refused = await attemptsOf('promote_bad', 'b1', 'promote');
      expect(refused).toHaveLength(1);
      expect(refused[0]?.state).toBe('failed');
      expect(refused[0]?.error).toContain(
        "promotion of 'bad_orders' v1 to 'staging' refused by the default policy of bad_orders@staging: cannot promote 'bad_orders' v1 to 'staging': its blocking quality checks failed; fix the data and run the pipeline again",
      );
      expect((await ops.listDatasets()).find((d) => d.name === 'bad_orders')?.aliases).toEqual({
        latest: 1,
      });

      // prod: pipelines lack the role by default. gold: the policy requires an approval.
      const admin = { name: 'ada', role: 'admin' as const };
      await ops.setAliasPolicy(
        {
          dataset: 'orders',
          alias: 'gold',
          roles: ['op', 'admin', 'pipeline'],
          requireChecks: true,
          requireApproval: true,
        },
        admin,
      );
      await rt.runtime.ops.triggerRun('promote_prod', { runId: 'p1' });
      expect((await rt.waitForRun('promote_prod', 'p1', 60_000)).state).toBe('failed');
      const toProd = await attemptsOf('promote_prod', 'p1', 'to_prod');
      expect(toProd).toHaveLength(1);
      expect(toProd[0]?.error).toContain(
        "promotion of 'orders' v1 to 'prod' refused by the default policy of orders@prod: 'pipeline:promote_prod/p1/to_prod' (pipeline) may not move alias 'prod' of 'orders': it needs the op or admin role; promote it by hand ('updraft datasets promote orders 1 --to prod'), or let pipelines move it ('updraft datasets policy set orders prod --roles op,admin,pipeline')",
      );
      const toGold = await attemptsOf('promote_prod', 'p1', 'to_gold');
      expect(toGold).toHaveLength(1);
      expect(toGold[0]?.error).toContain(
        "promotion of 'orders' v1 to 'gold' refused by the policy of orders@gold: cannot promote 'orders' v1 to 'gold': it needs an approval by a user with the op or admin role ('updraft datasets approve orders 1 --for gold'); approve the version, then clear this task to promote it again",
      );
      expect(
        Object.keys((await ops.listDatasets()).find((d) => d.name === 'orders')?.aliases ?? {}),
      ).toEqual(['latest', 'staging']);

      // What the message says works: approve, clear the task, and it promotes.
      await ops.approve('orders', 1, 'gold', { actor: admin, reason: 'ok' });
      await rt.runtime.ops.clearTasks('promote_prod', 'p1', ['to_gold']);
      await rt.waitFor(
        async () => {
          const ti = await rt!.runtime.ops.getTaskInstance('promote_prod', 'p1', 'to_gold');
          return ti.state === 'success' || ti.state === 'failed' ? ti : undefined;
        },
        'to_gold to finish again',
        60_000,
      );
      expect((await ops.showVersion('orders@gold')).version).toBe(1);

      // A failed attempt's promotion is never committed.
      await rt.runtime.ops.triggerRun('promote_failing', { runId: 'f1' });
      expect((await rt.waitForRun('promote_failing', 'f1', 60_000)).state).toBe('failed');
      expect((await ops.aliasHistory('orders')).map((e) => e.alias)).not.toContain('broken');
    }, 240_000);
  });

  describe(`promote tasks and their inlets on ${backend.name}`, () => {
    let h: DataHarness;
    beforeAll(async () => {
      h = await openDataHarness(backend, {
        wrapHooks: (hooks, home) => withQualityHooks(hooks, { home }),
      });
    });
    afterAll(async () => {
      await h?.close();
    });

    it('promotes the version the run made and checked, even after latest moved on', async () => {
      const run = { runPk: await h.createRun('etl', 'r1'), dagId: 'etl', runId: 'r1' };
      const other = { runPk: await h.createRun('etl', 'r2'), dagId: 'etl', runId: 'r2' };
      const make = (r: typeof run, n: number) =>
        h.runTask(r, {
          taskId: 'make',
          operator: 'duckdb',
          config: { query: `select ${n} as n`, output: 'events' },
        });
      await make(run, 1); // v1, written in r1
      await make(other, 2); // v2 by a concurrent run: latest moves on
      const check = await h.runTask(run, {
        taskId: 'check',
        operator: 'quality',
        upstream: ['make'],
        inlets: ['events'],
        config: { checks: [{ type: 'not_null', column: 'n', blocking: true }] },
      });
      expect(check.outcome.error?.message).toBeUndefined();
      await make(other, 3); // v3
      const promote = await h.runTask(run, {
        taskId: 'promote',
        operator: 'promote',
        upstream: ['check'],
        inlets: ['events'],
        config: { to: 'staging' },
      });
      expect(promote.outcome.result).toEqual({ dataset: 'events', version: 1, alias: 'staging' });
      expect((await h.ops.showVersion('events@staging')).version).toBe(1);
      // Without an upstream that settled it, an inlet reads latest.
      const alone = await h.runTask(run, {
        taskId: 'alone',
        operator: 'promote',
        inlets: ['events'],
        config: { to: 'newest' },
      });
      expect(alone.outcome.result).toEqual({ dataset: 'events', version: 3, alias: 'newest' });
      // Bad input: which inlet is unclear.
      const unclear = await h.runTask(run, {
        taskId: 'unclear',
        operator: 'promote',
        inlets: ['events', 'events@staging'],
        config: { to: 'staging' },
      });
      expect(unclear.outcome).toMatchObject({
        outcome: 'failed',
        exitReason: 'error_no_retry',
        error: {
          message:
            "task 'unclear': set 'dataset' to the inlet to promote (inlets: events, events@staging)",
        },
      });
    });

    it('commits the promotion of the current attempt only', async () => {
      const seed = { runPk: await h.createRun('seed', 's1'), dagId: 'seed', runId: 's1' };
      await h.runTask(seed, {
        taskId: 'make',
        operator: 'duckdb',
        config: { query: 'select 1 as id', output: 'sales' },
      });
      const runPk = await h.createRun('fence', 'r1');
      const run = { runPk, dagId: 'fence', runId: 'r1' };
      const task = taskSpec({ taskId: 'promote', operator: 'promote', inlets: ['sales'] });
      // Try 1 was superseded: the task instance is on try 2 now.
      const now = new Date();
      await h.store.db
        .insertInto('task_instances')
        .values({
          run_pk: runPk,
          dag_id: 'fence',
          run_id: 'r1',
          task_id: 'promote',
          map_index: -1,
          state: 'running',
          try_number: 2,
          max_tries: 3,
          operator: 'promote',
          pool: 'default_pool',
          pool_slots: 1,
          priority_weight: 1,
          queue: 'default',
          updated_at: now,
        })
        .execute();
      const report = (tryNumber: number, alias: string) => {
        const request = attemptRequest(h, run, task, tryNumber);
        const attempt: EnqueuedAttempt = {
          ref: { runPk, taskId: 'promote', mapIndex: -1 },
          request,
        } as EnqueuedAttempt;
        return {
          attempt,
          event: {
            type: 'finished' as const,
            key: request.key,
            at: Date.now(),
            outcome: 'success' as const,
            exitReason: 'success' as const,
            result: null as Json,
            effects: [
              aliasPromotionEffect({
                dataset: 'sales',
                version: 1,
                alias,
                reason: `try ${tryNumber}`,
              }),
            ],
          },
        };
      };
      const stale = await h.store.transaction((tx) =>
        commitAttemptEffects(tx, [report(1, 'staging')], h.hooks, noSpecs, new Date()),
      );
      expect(stale.finished[0]?.event.outcome).toBe('success'); // recordFinished drops it
      expect(await h.ops.aliasHistory('sales', 'staging')).toEqual([]);

      const current = await h.store.transaction((tx) =>
        commitAttemptEffects(tx, [report(2, 'staging')], h.hooks, noSpecs, new Date()),
      );
      expect(current.finished[0]?.event.outcome).toBe('success');
      expect(await h.ops.aliasHistory('sales', 'staging')).toMatchObject([
        {
          toVersion: 1,
          actor: 'pipeline:fence/r1/promote',
          actorRole: 'pipeline',
          reason: 'try 2',
        },
      ]);

      // A refused promotion (latest moves only by commits) fails without retry, undone.
      const refused = await h.store.transaction((tx) =>
        commitAttemptEffects(tx, [report(2, 'latest')], h.hooks, noSpecs, new Date()),
      );
      expect(refused.finished[0]?.event).toMatchObject({
        outcome: 'failed',
        exitReason: 'error_no_retry',
        error: {
          message: expect.stringContaining(
            "alias 'latest' of 'sales' moves only when a version is committed",
          ),
        },
      });
    });
  });
}
