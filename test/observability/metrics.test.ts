/**
 * `/metrics` of a running engine: the Prometheus text passes `promtool check metrics`
 * (Debian's `prometheus` package) and carries the scheduler, task, run, pool and
 * executor metrics after a run; a bearer token can be required.
 */
import { spawnSync } from 'node:child_process';
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
      ]) {
        expect(text).toContain(line);
      }
      expect(text).toMatch(/updraft_scheduler_loop_duration_seconds_count \d+/);
      expect(text).toMatch(/updraft_scheduler_heartbeat_timestamp_seconds \d+/);
      expect(text).toContain('process_cpu_seconds_total');

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
