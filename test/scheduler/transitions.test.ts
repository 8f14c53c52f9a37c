/**
 * The state machine, transition by transition, against every store backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DagSpec } from '../../src/core/dag-spec.ts';
import type { AttemptKey, ExecutorEvent } from '../../src/executor/executor.ts';
import { manualRunInterval } from '../../src/schedule/timetable.ts';
import {
  clearTaskInstances,
  createRun,
  type EnqueuedAttempt,
  enqueueScheduled,
  evaluateRuns,
  markTaskInstance,
  promoteDueRetries,
  recordFinished,
  recordStarted,
  resetInterruptedAttempts,
  type SpecLookup,
  startQueuedRuns,
} from '../../src/scheduler/transitions.ts';
import { getDagVersion, syncDagFile } from '../../src/store/queries/dags.ts';
import { dagSpec, loadedFile, type TaskInput } from '../support/specs.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

const T0 = new Date('2026-03-01T00:00:00Z');

for (const backend of STORE_BACKENDS) {
  describe(`state transitions on ${backend.name}`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await backend.open();
    });
    afterEach(async () => {
      await t.close();
    });

    const specs: SpecLookup = async (db, dagId, versionHash) => {
      const v = await getDagVersion(db, dagId, versionHash);
      if (!v) throw new Error('missing version');
      return v;
    };
    const logPath = (k: AttemptKey) => `/tmp/${k.taskId}.${k.tryNumber}.log`;

    async function setup(spec: DagSpec, runId = 'r1') {
      await t.store.transaction((tx) => syncDagFile(tx, loadedFile('/p/dag.ts', spec), T0, false));
      const row = await t.store.db
        .selectFrom('dags')
        .select('version_hash')
        .where('dag_id', '=', spec.dagId)
        .executeTakeFirstOrThrow();
      const version = await specs(t.store.db, spec.dagId, row.version_hash);
      const runPk = await t.store.transaction((tx) =>
        createRun(
          tx,
          { version, runId, runType: 'manual', planned: manualRunInterval(T0), params: {} },
          T0,
        ),
      );
      if (runPk === null) throw new Error('run not created');
      return { runPk, version };
    }

    async function states(runPk: number) {
      const rows = await t.store.db
        .selectFrom('task_instances')
        .select(['task_id', 'state', 'try_number'])
        .where('run_pk', '=', runPk)
        .orderBy('task_id')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.task_id, r.state]));
    }

    async function runState(runPk: number) {
      return (
        await t.store.db
          .selectFrom('dag_runs')
          .select('state')
          .where('id', '=', runPk)
          .executeTakeFirstOrThrow()
      ).state;
    }

    /** Starts queued runs, evaluates, enqueues: one scheduler step. */
    async function step(now = T0, parallelism = 64): Promise<EnqueuedAttempt[]> {
      return t.store.transaction(async (tx) => {
        const started = await startQueuedRuns(tx, specs, now);
        const running = await tx
          .selectFrom('dag_runs')
          .select('id')
          .where('state', '=', 'running')
          .execute();
        const all = new Map(
          [...started, ...running.map((r) => r.id)].map((pk) => [pk, 'all' as const]),
        );
        await evaluateRuns(tx, all, specs, now);
        const pools = new Map(
          (await tx.selectFrom('pools').select(['name', 'slots']).execute()).map((p) => [
            p.name,
            p.slots,
          ]),
        );
        const active = await tx
          .selectFrom('task_instances')
          .select(['dag_id', 'pool', 'pool_slots'])
          .where('state', 'in', ['queued', 'running'])
          .execute();
        const byPool = new Map<string, number>();
        const byDag = new Map<string, number>();
        for (const a of active) {
          byPool.set(a.pool, (byPool.get(a.pool) ?? 0) + a.pool_slots);
          byDag.set(a.dag_id, (byDag.get(a.dag_id) ?? 0) + 1);
        }
        const limits = {
          parallelism,
          executorRoom: Number.POSITIVE_INFINITY,
          pools,
          active: { total: active.length, byPool, byDag },
          results: new Map(),
        };
        const setup = {
          logPathFor: logPath,
          datasetsRoot: '/nonexistent/datasets',
          hooks: null,
          schedulerId: 'test',
        };
        return (await enqueueScheduled(tx, specs, limits, setup, now)).attempts;
      });
    }

    function finished(
      a: EnqueuedAttempt,
      outcome: 'success' | 'failed' | 'skipped',
      extra: Partial<Extract<ExecutorEvent, { type: 'finished' }>> = {},
    ) {
      return {
        attempt: a,
        event: {
          type: 'finished' as const,
          key: a.request.key,
          at: T0.getTime(),
          outcome,
          exitReason: outcome === 'success' ? ('success' as const) : ('error' as const),
          ...extra,
        },
      };
    }

    async function finish(events: ReturnType<typeof finished>[], now = T0) {
      return t.store.transaction((tx) => recordFinished(tx, events, now));
    }

    const chain = (...ids: string[]): TaskInput[] =>
      ids.map((taskId, i) => ({ taskId, upstream: i ? [ids[i - 1]!] : [] }));

    it('walks a chain: roots first, downstream after success, run success at the end', async () => {
      const { runPk } = await setup(dagSpec({ dagId: 'chain', tasks: chain('a', 'b', 'c') }));
      expect(await runState(runPk)).toBe('queued');
      let attempts = await step();
      expect(attempts.map((a) => a.request.key.taskId)).toEqual(['a']);
      expect(attempts[0]!.request.key.tryNumber).toBe(1);
      expect(await states(runPk)).toEqual({ a: 'queued', b: 'none', c: 'none' });
      await t.store.transaction((tx) =>
        recordStarted(
          tx,
          [
            {
              attempt: attempts[0]!,
              event: {
                type: 'started',
                key: attempts[0]!.request.key,
                at: T0.getTime(),
                pid: 1,
                hostname: 'h',
              },
            },
          ],
          T0,
        ),
      );
      expect((await states(runPk)).a).toBe('running');
      await finish([finished(attempts[0]!, 'success', { result: { rows: 3 } })]);
      attempts = await step();
      expect(attempts.map((a) => a.request.key.taskId)).toEqual(['b']);
      expect(attempts[0]!.request.context.upstreamResults).toEqual({ a: { rows: 3 } });
      await finish([finished(attempts[0]!, 'success')]);
      attempts = await step();
      await finish([finished(attempts[0]!, 'success')]);
      await step();
      expect(await states(runPk)).toEqual({ a: 'success', b: 'success', c: 'success' });
      expect(await runState(runPk)).toBe('success');
    });

    it('fences reports by try number: a stale success cannot overwrite a newer attempt', async () => {
      const { runPk } = await setup(
        dagSpec({ dagId: 'fence', tasks: [{ taskId: 'a', retries: 2, retryDelayMs: 0 }] }),
      );
      const [first] = await step();
      await finish([finished(first!, 'failed')]);
      expect((await states(runPk)).a).toBe('up_for_retry');
      await t.store.transaction((tx) => promoteDueRetries(tx, T0));
      const [second] = await step();
      expect(second!.request.key.tryNumber).toBe(2);
      // The first attempt reports success late: ignored.
      const out = await finish([finished(first!, 'success')]);
      expect(out[0]!.state).toBeNull();
      expect((await states(runPk)).a).toBe('queued');
      await finish([finished(second!, 'success')]);
      expect((await states(runPk)).a).toBe('success');
    });

    it('retries with the backoff delay, then fails for good; downstream is upstream_failed', async () => {
      const { runPk } = await setup(
        dagSpec({
          dagId: 'retry',
          tasks: [
            { taskId: 'a', retries: 1, retryDelayMs: 60_000 },
            { taskId: 'b', upstream: ['a'] },
          ],
        }),
      );
      const [first] = await step();
      await finish([finished(first!, 'failed')]);
      const ti = await t.store.db
        .selectFrom('task_instances')
        .select(['next_retry_at', 'state'])
        .where('task_id', '=', 'a')
        .executeTakeFirstOrThrow();
      expect(ti.state).toBe('up_for_retry');
      expect(new Date(ti.next_retry_at!).getTime()).toBe(T0.getTime() + 60_000);
      expect(
        await t.store.transaction((tx) => promoteDueRetries(tx, new Date(T0.getTime() + 59_999))),
      ).toEqual([]);
      expect(
        await t.store.transaction((tx) => promoteDueRetries(tx, new Date(T0.getTime() + 60_000))),
      ).toEqual([runPk]);
      const [second] = await step();
      await finish([finished(second!, 'failed')]);
      await step();
      expect(await states(runPk)).toEqual({ a: 'failed', b: 'upstream_failed' });
      expect(await runState(runPk)).toBe('failed');
    });

    it('targeted evaluation cascades upstream_failed down a chain and ends the run', async () => {
      const { runPk } = await setup(
        dagSpec({ dagId: 'cascade', tasks: chain('a', 'b', 'c', 'd') }),
      );
      const [a] = await step();
      await finish([finished(a!, 'failed')]);
      let targets = new Map<number, Set<string> | 'all'>([[runPk, new Set(['a'])]]);
      for (let round = 0; targets.size && round < 10; round++) {
        const evaluations = await t.store.transaction((tx) => evaluateRuns(tx, targets, specs, T0));
        targets = new Map(
          evaluations
            .filter((e) => e.settled.length)
            .map((e) => [e.runPk, new Set(e.settled)] as const),
        );
      }
      expect(await states(runPk)).toEqual({
        a: 'failed',
        b: 'upstream_failed',
        c: 'upstream_failed',
        d: 'upstream_failed',
      });
      expect(await runState(runPk)).toBe('failed');
    });

    it('targeted evaluation of an independent task reads no other task and finishes the run on the last one', async () => {
      const { runPk } = await setup(
        dagSpec({ dagId: 'wide', tasks: ['a', 'b', 'c'].map((taskId) => ({ taskId })) }),
      );
      const attempts = await step();
      expect(attempts).toHaveLength(3);
      for (const [i, at] of attempts.entries()) {
        await finish([finished(at, 'success')]);
        const [e] = await t.store.transaction((tx) =>
          evaluateRuns(tx, new Map([[runPk, new Set([at.ref.taskId])]]), specs, T0),
        );
        expect(e!.finished).toBe(i === 2 ? 'success' : null);
      }
      expect(await runState(runPk)).toBe('success');
    });

    it('a failure without retry (TaskFailure retry:false) skips the remaining retries', async () => {
      const { runPk } = await setup(
        dagSpec({ dagId: 'noretry', tasks: [{ taskId: 'a', retries: 5 }] }),
      );
      const [a] = await step();
      await finish([finished(a!, 'failed', { exitReason: 'error_no_retry' })]);
      expect((await states(runPk)).a).toBe('failed');
    });

    it('trigger rules: all_done runs after a failure, one_success as soon as one succeeds', async () => {
      const { runPk } = await setup(
        dagSpec({
          dagId: 'rules',
          tasks: [
            { taskId: 'a' },
            { taskId: 'b' },
            { taskId: 'cleanup', upstream: ['a', 'b'], triggerRule: 'all_done' },
            { taskId: 'any', upstream: ['a', 'b'], triggerRule: 'one_success' },
          ],
        }),
      );
      const attempts = await step();
      const byId = Object.fromEntries(attempts.map((a) => [a.request.key.taskId, a]));
      await finish([finished(byId.a!, 'failed')]);
      await step();
      expect((await states(runPk)).cleanup).toBe('none');
      await finish([finished(byId.b!, 'success')]);
      const next = await step();
      expect(next.map((a) => a.request.key.taskId).sort()).toEqual(['any', 'cleanup']);
    });

    it('pools cap queued+running slots; maxActiveTasks caps a DAG', async () => {
      await t.store.db
        .insertInto('pools')
        .values({ name: 'db', slots: 2, description: null })
        .execute();
      const { runPk } = await setup(
        dagSpec({
          dagId: 'pooled',
          maxActiveTasks: 3,
          tasks: ['a', 'b', 'c', 'd', 'e'].map((id) => ({
            taskId: id,
            pool: id < 'd' ? 'db' : 'default_pool',
          })),
        }),
      );
      const attempts = await step();
      const pooled = attempts.filter((a) => a.request.task.pool === 'db');
      expect(pooled).toHaveLength(2);
      expect(attempts).toHaveLength(3);
      await finish([finished(pooled[0]!, 'success')]);
      const more = await step();
      expect(more).toHaveLength(1);
      expect(Object.values(await states(runPk)).filter((s) => s === 'queued')).toHaveLength(3);
    });

    it('priority weight orders tasks when slots are scarce', async () => {
      await setup(
        dagSpec({
          dagId: 'prio',
          tasks: [
            { taskId: 'low', priorityWeight: 1 },
            { taskId: 'high', priorityWeight: 10 },
          ],
        }),
      );
      const attempts = await step(T0, 1);
      expect(attempts.map((a) => a.request.key.taskId)).toEqual(['high']);
    });

    it('maxActiveRuns keeps further runs queued until one finishes', async () => {
      const spec = dagSpec({ dagId: 'mar', maxActiveRuns: 1, tasks: [{ taskId: 'a' }] });
      const { runPk, version } = await setup(spec);
      const second = await t.store.transaction((tx) =>
        createRun(
          tx,
          {
            version,
            runId: 'r2',
            runType: 'manual',
            planned: manualRunInterval(new Date(T0.getTime() + 1000)),
            params: {},
          },
          T0,
        ),
      );
      const [a] = await step();
      expect(await runState(second!)).toBe('queued');
      await finish([finished(a!, 'success')]);
      await step();
      expect(await runState(runPk)).toBe('success');
      await step();
      expect(await runState(second!)).toBe('running');
    });

    it('clear with downstream re-runs the tasks with a fresh retry allowance', async () => {
      const { runPk, version } = await setup(dagSpec({ dagId: 'clear', tasks: chain('a', 'b') }));
      let [a] = await step();
      await finish([finished(a!, 'success', { result: 1 })]);
      let [b] = await step();
      await finish([finished(b!, 'failed')]);
      await step();
      expect(await runState(runPk)).toBe('failed');
      await t.store.transaction((tx) => clearTaskInstances(tx, runPk, ['a', 'b'], version, T0));
      expect(await runState(runPk)).toBe('queued');
      expect(await states(runPk)).toEqual({ a: 'none', b: 'none' });
      [a] = await step();
      expect(a!.request.key.tryNumber).toBe(2);
      await finish([finished(a!, 'success')]);
      [b] = await step();
      await finish([finished(b!, 'success')]);
      await step();
      expect(await runState(runPk)).toBe('success');
    });

    it('marking a failed task success lets its downstream run', async () => {
      const { runPk } = await setup(
        dagSpec({
          dagId: 'mark',
          tasks: [{ taskId: 'a' }, { taskId: 'b', upstream: ['a'], triggerRule: 'one_success' }],
        }),
      );
      const [a] = await step();
      await finish([finished(a!, 'failed')]);
      await step();
      expect(await states(runPk)).toEqual({ a: 'failed', b: 'upstream_failed' });
      expect(await runState(runPk)).toBe('failed');
      // b already settled: marking a does not revive b (clear b to re-run it).
      await t.store.transaction((tx) => markTaskInstance(tx, runPk, 'a', 'success', T0));
      await step();
      expect(await states(runPk)).toEqual({ a: 'success', b: 'upstream_failed' });
      expect(await runState(runPk)).toBe('failed');
    });

    it('after a restart, in-flight attempts are interrupted and re-queued without using a try', async () => {
      const { runPk } = await setup(
        dagSpec({ dagId: 'restart', tasks: [{ taskId: 'a', retries: 0 }] }),
      );
      const [a] = await step();
      expect(await t.store.transaction((tx) => resetInterruptedAttempts(tx, T0))).toEqual([runPk]);
      const attempt = await t.store.db
        .selectFrom('task_attempts')
        .selectAll()
        .executeTakeFirstOrThrow();
      expect(attempt.exit_reason).toBe('interrupted');
      const [again] = await step();
      expect(again!.request.key.tryNumber).toBe(2);
      expect(again!.request.context.maxTries).toBe(2);
      // The stale first attempt cannot report any more.
      expect((await finish([finished(a!, 'success')]))[0]!.state).toBeNull();
      await finish([finished(again!, 'success')]);
      await step();
      expect(await runState(runPk)).toBe('success');
    });
  });
}
