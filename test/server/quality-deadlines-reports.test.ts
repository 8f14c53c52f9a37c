/**
 * Quality results, deadline misses and the operations report through the REST API, on
 * both stores, with data produced by the whole engine on an injected clock: a YAML
 * pipeline whose quality task quarantines failing rows and judges row_count against its
 * history (a volume spike fails the blocking anomaly check, then a clean run recovers),
 * and a TypeScript DAG whose task and run miss their deadlines while the work goes on.
 */
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type ApiHarness,
  DEADLINE_DAG,
  QUALITY_PIPELINE,
  QUALITY_RUNS as RUNS,
  runQualitySeries,
  startApi,
} from './support.ts';

for (const backend of STORE_BACKENDS) {
  describe(`quality, deadline and report routes on ${backend.name}`, () => {
    let h: ApiHarness;
    const clock = new ManualClock(Date.now());
    const gate = path.join(os.tmpdir(), `updraft-api-gate-${process.pid}-${backend.name}`);
    const get = async (url: string) => {
      const response = await h.as('viewer', 'GET', url);
      return { status: response.statusCode, body: response.json() };
    };

    beforeAll(async () => {
      rmSync(gate, { force: true });
      h = await startApi(
        backend,
        { 'orders.yaml': QUALITY_PIPELINE, 'sla.ts': DEADLINE_DAG(gate) },
        { clock },
      );
      expect(await h.rt.runtime.ops.listImportErrors()).toEqual([]);
      await runQualitySeries(h.rt, clock);
    }, 600_000);
    afterAll(async () => {
      await h?.close();
      rmSync(gate, { force: true });
    });

    it("lists quality runs per version, a version's results with definitions and quarantine, and metric history", async () => {
      const states = await Promise.all(
        RUNS.map(async (r) => (await h.rt.runtime.ops.getRun('orders_etl', r.runId)).state),
      );
      expect(states).toEqual(['success', 'success', 'success', 'success', 'failed', 'success']);

      const runs = await get('/api/v1/datasets/orders/quality/runs');
      expect(runs.status).toBe(200);
      expect(
        runs.body.map((r: { version: number; runId: string }) => [r.version, r.runId]),
      ).toEqual([
        [6, 'r6'],
        [5, 'r5'],
        [4, 'r4'],
        [3, 'r3'],
        [2, 'r2'],
        [1, 'r1'],
      ]);
      expect(runs.body[1]).toMatchObject({
        dataset: 'orders',
        dagId: 'orders_etl',
        taskId: 'check',
        tryNumber: 1,
        counts: { pass: 3, warn: 0, error: 2, skipped: 0 },
        blockingPassed: false,
      });
      // The anomaly check needs three points of history: v1..v3 are skipped.
      expect(runs.body[5].counts).toEqual({ pass: 4, warn: 0, error: 0, skipped: 1 });
      expect(runs.body[0]).toMatchObject({
        counts: { pass: 5, warn: 0, error: 0, skipped: 0 },
        blockingPassed: true,
      });
      const onlyV5 = await get('/api/v1/datasets/orders/quality/runs?version=5');
      expect(onlyV5.body.map((r: { runId: string }) => r.runId)).toEqual(['r5']);

      const v5 = await get('/api/v1/datasets/orders/versions/5/quality');
      expect(v5.status).toBe(200);
      expect(v5.body).toMatchObject({ version: 5, runId: 'r5', blockingPassed: false });
      const byId = Object.fromEntries(
        v5.body.results.map((r: { checkId: string }) => [r.checkId, r]),
      );
      expect(Object.keys(byId)).toEqual([
        'accepted_values.category',
        'anomaly.row_count',
        'not_null.category',
        'range.amount',
        'unique.id',
      ]);
      expect(byId['range.amount']).toMatchObject({
        type: 'range',
        status: 'error',
        severity: 'error',
        blocking: false,
        failingRows: 3,
        quarantined: true,
        check: { type: 'range', column: 'amount', min: 0 },
        quarantine: { dataset: 'orders.quarantine', version: 1 },
      });
      expect(byId['anomaly.row_count']).toMatchObject({
        status: 'error',
        blocking: true,
        failingRows: null,
        check: { type: 'anomaly', metric: 'row_count', min_points: 3, blocking: true },
        quarantine: null,
      });
      expect(byId['anomaly.row_count'].message).toContain('row_count = 500, outside');
      expect(byId['not_null.category']).toMatchObject({
        status: 'pass',
        check: { warn_if: '> 0', error_if: '> 5%' },
        quarantine: null,
      });
      expect(byId['accepted_values.category'].check.values).toContain(
        '<img src=x onerror=window.__xss=1>',
      );
      // The quarantine version is real: the three failing rows with the check id.
      const quarantine = (
        await h.as('viewer', 'GET', '/api/v1/datasets/orders.quarantine/versions/1')
      ).json();
      expect(quarantine.rows).toBe(3);
      expect(quarantine.producedBy).toMatchObject({
        dagId: 'orders_etl',
        runId: 'r5',
        taskId: 'check',
      });

      // A version checked by another run: chosen by runId; an unknown run is a 404.
      const v2 = await get('/api/v1/datasets/orders/versions/2/quality?runId=r2');
      expect(v2.body.results.every((r: { status: string }) => r.status !== 'error')).toBe(true);
      const wrongRun = await get('/api/v1/datasets/orders/versions/2/quality?runId=r5');
      expect(wrongRun.status).toBe(404);
      expect(wrongRun.body.message).toContain(
        "no quality results for dataset 'orders' v2 in run 'r5'",
      );

      const errors = await get('/api/v1/datasets/orders/quality/results?status=error&status=warn');
      expect(
        errors.body
          .map((r: { runId: string; checkId: string }) => `${r.runId} ${r.checkId}`)
          .sort(),
      ).toEqual(['r5 anomaly.row_count', 'r5 range.amount']);
      const ofRun = await get('/api/v1/datasets/orders/quality/results?runId=r3&limit=2');
      expect(ofRun.body).toHaveLength(2);
      expect(ofRun.body.every((r: { version: number }) => r.version === 3)).toBe(true);

      const metrics = await get('/api/v1/datasets/orders/quality/metrics');
      expect(metrics.body).toEqual([
        { metric: 'row_count', points: 6, anomalies: 1, latestVersion: 6 },
        { metric: 'sum(amount)', points: 6, anomalies: 0, latestVersion: 6 },
      ]);
      const history = await get('/api/v1/datasets/orders/quality/history?metric=row_count');
      expect(
        history.body.map((p: { value: number; anomaly: boolean }) => [p.value, p.anomaly]),
      ).toEqual([
        [50, false],
        [52, false],
        [48, false],
        [51, false],
        [500, true],
        [50, false],
      ]);
      const sum = await get(
        `/api/v1/datasets/orders/quality/history?metric=${encodeURIComponent('sum(amount)')}&limit=2`,
      );
      expect(sum.body.map((p: { version: number }) => p.version)).toEqual([5, 6]);
    });

    it('refuses bad quality requests naming the field, and unknown datasets and metrics', async () => {
      const field = async (url: string) => {
        const r = await get(url);
        expect(r.status, url).toBe(400);
        return r.body.field;
      };
      expect(await field('/api/v1/datasets/orders/versions/0/quality')).toBe('params.version');
      expect(await field('/api/v1/datasets/orders/quality/results?status=broken')).toBe(
        'querystring.status.0',
      );
      expect(await field('/api/v1/datasets/orders/quality/results?limit=0')).toBe(
        'querystring.limit',
      );
      expect(await field('/api/v1/datasets/orders/quality/runs?colour=red')).toBe(
        'querystring.colour',
      );
      expect(await field('/api/v1/datasets/orders/quality/history')).toBe('querystring.metric');
      const unknown = await get('/api/v1/datasets/ordres/quality/runs');
      expect(unknown.status).toBe(404);
      expect(unknown.body.message).toContain("did you mean 'orders'");
      expect((await get('/api/v1/datasets/ordres/quality/metrics')).status).toBe(404);
      expect((await get('/api/v1/datasets/ordres/quality/results')).status).toBe(404);
      const metric = await get('/api/v1/datasets/orders/quality/history?metric=mean(amount)');
      expect(metric.status).toBe(404);
      expect(metric.body.message).toContain('metrics: row_count, sum(amount)');
      const bad = await get('/api/v1/datasets/Bad%20Name/quality/runs');
      expect(bad.status).toBe(400);
    });

    it('publishes the quality, deadline and report routes in the OpenAPI document', async () => {
      const doc = await get('/api/v1/openapi.json');
      expect(doc.status).toBe(200);
      const paths = doc.body.paths;
      expect(Object.keys(paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/datasets/{name}/quality/runs',
          '/api/v1/datasets/{name}/versions/{version}/quality',
          '/api/v1/datasets/{name}/quality/results',
          '/api/v1/datasets/{name}/quality/metrics',
          '/api/v1/datasets/{name}/quality/history',
          '/api/v1/deadline-misses',
          '/api/v1/dags/{dagId}/deadline-misses',
          '/api/v1/reports/operations',
        ]),
      );
      const detail =
        paths['/api/v1/datasets/{name}/versions/{version}/quality'].get.responses['200'].content[
          'application/json'
        ].schema;
      expect(JSON.stringify(detail)).toContain('"quarantine"');
      expect(JSON.stringify(detail)).toContain('"warn_if"');
      const report = paths['/api/v1/reports/operations'].get;
      expect(report.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
        'since',
        'until',
      ]);
    });

    it('shows task and run deadline misses, open while the work goes on, then by how much', async () => {
      const ops = h.rt.runtime.ops;
      await ops.triggerRun('sla', { runId: 'late1' });
      await h.rt.waitFor(async () => {
        const ti = await ops.getTaskInstance('sla', 'late1', 'wait');
        return ti.state === 'running' ? true : undefined;
      }, 'the task to run');
      await h.rt.waitFor(async () => {
        const ti = await ops.getTaskInstance('sla', 'late1', 'quick');
        return ti.state === 'success' ? true : undefined;
      }, 'quick to finish');
      expect((await get('/api/v1/dags/sla/deadline-misses')).body).toEqual([]);

      clock.advance(5 * 60_000 + 1);
      const open = await h.rt.waitFor(async () => {
        const misses = (await get('/api/v1/dags/sla/deadline-misses')).body;
        return misses.length === 1 ? misses : undefined;
      }, 'the task deadline miss');
      expect(open[0]).toMatchObject({
        dagId: 'sla',
        runId: 'late1',
        taskId: 'wait',
        from: 'start',
        afterMs: 300_000,
        finishedAt: null,
        lateByMs: null,
      });
      clock.advance(5 * 60_000);
      await h.rt.waitFor(async () => {
        const misses = (await get('/api/v1/deadline-misses?dagId=sla')).body;
        return misses.length === 2 ? misses : undefined;
      }, 'the run deadline miss');
      // Three more minutes late, then the work finishes: the misses say by how much.
      clock.advance(3 * 60_000);
      writeFileSync(gate, '');
      expect((await h.rt.waitForRun('sla', 'late1')).state).toBe('success');
      clock.advance(60_000);
      const [runMiss, taskMiss] = (await get('/api/v1/dags/sla/deadline-misses?runId=late1')).body;
      expect(runMiss).toMatchObject({
        taskId: null,
        afterMs: 600_000,
        finishedAt: expect.any(String),
      });
      expect(taskMiss).toMatchObject({ taskId: 'wait', finishedAt: runMiss.finishedAt });
      expect(Date.parse(runMiss.finishedAt) - Date.parse(runMiss.dueAt)).toBe(runMiss.lateByMs);
      // The task was due 5 min after the start and ended 13 min after: 8 min late.
      expect(taskMiss.lateByMs).toBeGreaterThanOrEqual(8 * 60_000);
      expect(taskMiss.lateByMs).toBeLessThan(9 * 60_000);
      expect(runMiss.lateByMs).toBe(taskMiss.lateByMs - 5 * 60_000);

      expect((await get('/api/v1/deadline-misses?since=1d')).body).toHaveLength(2);
      expect((await get('/api/v1/deadline-misses?dagId=orders_etl')).body).toEqual([]);
      const since = await get('/api/v1/deadline-misses?since=lately');
      expect(since.status).toBe(400);
      expect(since.body).toMatchObject({ field: 'querystring.since' });
      expect(since.body.message).toContain("got 'lately'");
      expect((await get('/api/v1/dags/nope/deadline-misses')).status).toBe(404);
      expect((await get('/api/v1/deadline-misses?limit=5000')).body.field).toBe(
        'querystring.limit',
      );
    });

    it('reports per DAG and overall: runs, success rate, recovery, misses, rows, quality failures', async () => {
      const report = await get('/api/v1/reports/operations?since=7d');
      expect(report.status).toBe(200);
      const byDag = Object.fromEntries(
        report.body.dags.map((d: { dagId: string }) => [d.dagId, d]),
      );
      expect(byDag.orders_etl).toMatchObject({
        runs: 6,
        succeeded: 5,
        failed: 1,
        recoveries: 1,
        deadlineMisses: 0,
        qualityFailures: 2,
      });
      expect(byDag.orders_etl.successRate).toBeCloseTo(5 / 6);
      // r5 failed; r6 succeeded one clock minute later (plus its run time).
      expect(byDag.orders_etl.meanTimeToRecoverMs).toBeGreaterThanOrEqual(60_000);
      // 50 + 52 + 48 + 51 + 500 + 50 rows, plus the 3 quarantined and the clean outputs.
      expect(byDag.orders_etl.rowsWritten).toBeGreaterThan(751);
      expect(byDag.sla).toMatchObject({ runs: 1, succeeded: 1, deadlineMisses: 2 });
      expect(report.body.overall).toMatchObject({ dagId: null, runs: 7, deadlineMisses: 2 });
      expect(report.body.overall.durationTrend.length).toBeGreaterThan(0);
      expect(Date.parse(report.body.until) - Date.parse(report.body.since)).toBeGreaterThanOrEqual(
        7 * 86_400_000,
      );

      const bad = await get('/api/v1/reports/operations?since=soon');
      expect(bad.body).toMatchObject({ statusCode: 400, field: 'querystring.since' });
      const backwards = await get(
        `/api/v1/reports/operations?since=2026-01-02&until=2026-01-01T00:00:00Z`,
      );
      expect(backwards.body).toMatchObject({ statusCode: 400, field: 'querystring.until' });
      expect((await get('/api/v1/reports/operations?until=yesterday')).body.field).toBe(
        'querystring.until',
      );
      const empty = await get(
        '/api/v1/reports/operations?since=2020-01-01&until=2020-01-08T00:00:00Z',
      );
      expect(empty.body.overall).toMatchObject({ runs: 0, successRate: null, deadlineMisses: 0 });
      expect(empty.body.dags).toEqual([]);
    });
  });
}
