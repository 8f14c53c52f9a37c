/**
 * `/metrics` of a running engine: the Prometheus text passes `promtool check metrics`
 * (Debian's `prometheus` package) and carries the scheduler, task, run, pool and
 * executor metrics after a run; a bearer token can be required.
 */
import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { healthSource } from '../../src/server/health-source.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PIPELINE = `
import { dag } from 'updraft';
export default dag({ id: 'measured' }, (d) => {
  const a = d.task('a', { retries: 1, retryDelay: 0 }, (ctx) => {
    if (ctx.tryNumber === 1) throw new Error('first try fails');
    return 1;
  });
  d.task('b', () => 2).after(a);
});
`;

const promtool = spawnSync('promtool', ['--version']).status === 0;

for (const backend of STORE_BACKENDS) {
  describe(`metrics on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('serves Prometheus text that promtool accepts, with the engine metrics', async () => {
      expect(promtool, 'promtool is missing: apt-get install -y prometheus').toBe(true);
      rt = await startTestRuntime(backend, { 'measured.ts': PIPELINE });
      await rt.runtime.ops.triggerRun('measured', { runId: 'r1' });
      await rt.waitForRun('measured', 'r1');
      const app = await buildServer({
        version: '1',
        health: healthSource(rt.runtime.store, rt.runtime.scheduler, rt.runtime.executorStatus),
        metrics: rt.runtime.metrics,
      });
      const runtime = rt.runtime;
      const db = runtime.store.db;
      await sql`insert into datasets (name) values ('orders')`.execute(db);
      await sql`insert into dataset_versions (dataset, version, path, manifest, row_count, bytes, file_count, dag_id)
        values ('orders', 1, 'orders/v1', '{}', 10, 10, 1, 'measured')`.execute(db);
      await sql`insert into quality_results (dataset, version, dag_id, run_id, task_id, try_number, check_id, check_type,
          severity, blocking, status, message, checked_at)
        values ('orders', 1, 'measured', 'r1', 'a', 1, 'c1', 'not_null', 'error', true, 'error', 'nulls', now()),
               ('orders', 1, 'measured', 'r1', 'a', 1, 'c2', 'not_null', 'error', true, 'pass', 'ok', now())`.execute(
        db,
      );
      // The run's duration is observed in the background after run_finished.
      const text = await rt.waitFor(async () => {
        const body = (await app.inject('/metrics')).body;
        return body.includes(
          'updraft_dag_run_duration_seconds_count{dag_id="measured",state="success"} 1',
        )
          ? body
          : undefined;
      }, 'the run duration metric');
      const response = await app.inject('/metrics');
      expect(response.headers['content-type']).toContain('text/plain');

      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);

      for (const line of [
        'updraft_task_retries_total{dag_id="measured",task_id="a"} 1',
        'updraft_task_attempts_finished_total{dag_id="measured",state="up_for_retry"} 1',
        'updraft_task_attempts_finished_total{dag_id="measured",state="success"} 2',
        'updraft_task_duration_seconds_count{dag_id="measured",task_id="b",state="success"} 1',
        'updraft_task_handoff_latency_seconds_count 3',
        'updraft_executor_slots{executor="local"} 2',
        'updraft_pool_slots{pool="default_pool"} 128',
        'updraft_pool_used_slots{pool="default_pool"} 0',
        'updraft_import_errors 0',
        'updraft_task_instances{state="running"} 0',
        'updraft_dataset_versions_written_total{dataset="orders"} 1',
        'updraft_quality_checks_failed_total{dataset="orders",severity="error"} 1',
      ]) {
        expect(text).toContain(line);
      }
      expect(text).toMatch(/updraft_scheduler_loop_duration_seconds_count \d+/);
      expect(text).toMatch(/updraft_scheduler_heartbeat_timestamp_seconds \d+/);
      expect(text).toContain('process_cpu_seconds_total');

      // Counters follow the store: a new version counts at the next scrape.
      await sql`insert into dataset_versions (dataset, version, path, manifest, row_count, bytes, file_count, dag_id)
        values ('orders', 2, 'orders/v2', '{}', 10, 10, 1, 'measured')`.execute(db);
      expect((await app.inject('/metrics')).body).toContain(
        'updraft_dataset_versions_written_total{dataset="orders"} 2',
      );

      const health = JSON.parse((await app.inject('/health')).body) as Record<string, unknown>;
      expect(health.executor).toEqual({ name: 'local', slots: 2, inFlight: 0 });
      const report = await runtime.ops.health();
      expect(report).toMatchObject({ status: 'ok', executor: { slots: 2 }, store: { ok: true } });
      await app.close();
    });

    it('requires the metrics token when one is set', async () => {
      rt = await startTestRuntime(backend, {});
      const app = await buildServer({
        version: '1',
        health: healthSource(rt.runtime.store, null),
        metrics: rt.runtime.metrics,
      });
      const { metricsRoutes } = await import('../../src/observability/metrics-plugin.ts');
      const guarded = (await import('fastify')).default();
      await guarded.register(metricsRoutes, { metrics: rt.runtime.metrics!, token: 'scrape-me' });
      expect((await guarded.inject('/metrics')).statusCode).toBe(401);
      expect(
        (await guarded.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } }))
          .statusCode,
      ).toBe(401);
      const ok = await guarded.inject({
        url: '/metrics',
        headers: { authorization: 'Bearer scrape-me' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('updraft_scheduler_loop_duration_seconds');
      expect((await app.inject('/metrics')).statusCode).toBe(200);
      await guarded.close();
      await app.close();
    });
  });
}
