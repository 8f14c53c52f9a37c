/**
 * Quality tasks through the data layer, on both stores: results stored per check,
 * version and run; blocking checks fail the task (keeping the results) and block
 * promotion; failing rows quarantined with check id and reason; `quarantine: true`
 * lets the clean rows continue; anomaly detection over the metric history kept per
 * version; the manifest summary.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { qualityAlert, qualityAlertListener } from '../../src/quality/quality-alerts.ts';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import { StoreQualityOperations } from '../../src/quality/quality-operations.ts';
import { type DataHarness, openDataHarness, readVersionRows } from '../data/support.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const op = { name: 'olga', role: 'op' as const };

for (const backend of STORE_BACKENDS) {
  describe(`quality gates on ${backend.name}`, () => {
    let h: DataHarness;
    let quality: StoreQualityOperations;
    let run: { runPk: number; dagId: string; runId: string };
    let n = 0;
    const write = async (dataset: string, query: string) => {
      const { outcome } = await h.runTask(run, {
        taskId: `write_${++n}`,
        operator: 'duckdb',
        config: { query, output: dataset },
      });
      expect(outcome.error?.message).toBeUndefined();
    };
    const check = (inlet: string, config: Record<string, unknown>) =>
      h.runTask(run, {
        taskId: `check_${++n}`,
        operator: 'quality',
        inlets: [inlet],
        config: config as never,
      });

    beforeAll(async () => {
      h = await openDataHarness(backend, {
        wrapHooks: (hooks, home) => withQualityHooks(hooks, { home }),
      });
      quality = new StoreQualityOperations(h.store, h.storage);
      run = { runPk: await h.createRun('etl', 'r1'), dagId: 'etl', runId: 'r1' };
    });
    afterAll(async () => {
      await h?.close();
    });

    const checks = [
      { type: 'range', column: 'amount', min: 0, max: 1000, blocking: true },
      { type: 'not_null', column: 'id', blocking: true },
      { type: 'accepted_values', column: 'kind', values: ['a', 'b'], severity: 'warn' },
    ];

    it('passes clean data: results stored, version promotable, summary in the manifest', async () => {
      await write('orders', `select range as id, range * 2 as amount, 'a' as kind from range(100)`);
      const done = await check('orders', { checks });
      expect(done.outcome.error?.stack).toBeUndefined();
      expect(done.commitFailure).toBeUndefined();
      const results = await quality.latestResults('orders');
      expect(results.map((r) => [r.checkId, r.status, r.version])).toEqual([
        ['accepted_values.kind', 'pass', 1],
        ['not_null.id', 'pass', 1],
        ['range.amount', 'pass', 1],
      ]);
      const version = await h.ops.showVersion('orders@v1');
      expect(version.blockingChecksPassed).toBe(true);
      expect(version.manifest.quality?.counts).toEqual({ pass: 3, warn: 0, error: 0, skipped: 0 });
      const file = JSON.parse(readFileSync(path.join(version.location, 'manifest.json'), 'utf8'));
      expect(file.quality.blockingPassed).toBe(true);
      await h.ops.promote('orders', 1, 'prod', { actor: op });
    });

    it('fails a blocking check: the task fails with the reason, results kept, promotion refused, rows quarantined', async () => {
      await write(
        'orders',
        `select range as id, case when range in (3, 5, 7) then -1 else range end as amount, case when range = 9 then 'z' else 'a' end as kind from range(100)`,
      );
      const done = await check('orders', { checks });
      expect(done.commitFailure).toContain(
        "orders v2 'range.amount': 3 rows with 'amount' outside [0, 1000]",
      );
      const results = await quality.latestResults('orders', 2);
      expect(results.map((r) => [r.checkId, r.status, r.failingRows])).toEqual([
        ['accepted_values.kind', 'warn', 1],
        ['not_null.id', 'pass', 0],
        ['range.amount', 'error', 3],
      ]);
      expect((await h.ops.showVersion('orders@v2')).blockingChecksPassed).toBe(false);
      await expect(h.ops.promote('orders', 2, 'prod', { actor: op })).rejects.toThrow(
        'its blocking quality checks failed',
      );
      const quarantined = await h.ops.showVersion('orders.quarantine');
      expect(await readVersionRows(quarantined.location, 'id, _check_id')).toEqual([
        {
          id: '3',
          amount: '-1',
          kind: 'a',
          _check_id: 'range.amount',
          _reason: "'amount' outside [0, 1000]",
        },
        {
          id: '5',
          amount: '-1',
          kind: 'a',
          _check_id: 'range.amount',
          _reason: "'amount' outside [0, 1000]",
        },
        {
          id: '7',
          amount: '-1',
          kind: 'a',
          _check_id: 'range.amount',
          _reason: "'amount' outside [0, 1000]",
        },
        {
          id: '9',
          amount: '9',
          kind: 'z',
          _check_id: 'accepted_values.kind',
          _reason: "'kind' not an accepted value",
        },
      ]);
    });

    it('quarantine: true lets the clean rows continue as a version of the output', async () => {
      const done = await check('orders', { checks, quarantine: true, output: 'orders.clean' });
      expect(done.commitFailure).toBeUndefined();
      const clean = await h.ops.showVersion('orders.clean');
      expect(clean.rows).toBe(96);
      expect(clean.blockingChecksPassed).toBe(true);
      expect(
        (await quality.latestResults('orders', 2)).find((r) => r.checkId === 'range.amount'),
      ).toMatchObject({ status: 'error', quarantined: true });
      expect((await h.ops.showVersion('orders@v2')).blockingChecksPassed).toBe(false);
    });

    it('raises a quality_failed alert for checks that failed without failing the task', async () => {
      const done = await check('orders', {
        checks: [{ type: 'range', column: 'amount', min: 0 }],
      });
      expect(done.commitFailure).toBeUndefined();
      const task = { ...done.task, notify: { ...done.task.notify, onFailure: ['oncall'] } };
      const key = {
        dagId: run.dagId,
        runId: run.runId,
        taskId: task.taskId,
        mapIndex: -1,
        tryNumber: 1,
      };
      const event = {
        type: 'attempt_finished' as const,
        key,
        spec: {} as never,
        task,
        state: 'success' as const,
        exitReason: 'success' as const,
        error: null,
        queuedAt: 0,
        startedAt: 1000,
        at: 1500,
      };
      const alert = await qualityAlert(h.store.db, event);
      expect(alert).toMatchObject({
        kind: 'quality_failed',
        taskId: task.taskId,
        durationMs: 500,
        reason: '1 check failed',
        error: "orders v2 'range.amount': 3 rows with 'amount' outside [0, ∞]",
      });
      const sent: { alert: unknown; targets: readonly string[] }[] = [];
      const listen = qualityAlertListener({
        db: h.store.db,
        sink: { dispatch: (a, targets) => sent.push({ alert: a, targets }) },
        log: createLogger({ level: 'silent' }),
      });
      listen(event);
      await vi.waitFor(() => expect(sent).toEqual([{ alert, targets: ['oncall'] }]));
      // A clean check raises nothing.
      const clean = await check('orders@v1', {
        checks: [{ type: 'range', column: 'amount', min: 0 }],
      });
      expect(
        await qualityAlert(h.store.db, { ...event, key: { ...key, taskId: clean.task.taskId } }),
      ).toBeNull();
    });

    it('a blocking dataset-level failure withholds the clean output but keeps the quarantine', async () => {
      const before = (await h.ops.showVersion('orders.clean')).version;
      const quarantineBefore = (await h.ops.showVersion('orders.quarantine')).version;
      const done = await check('orders', {
        checks: [...checks, { type: 'row_count', max: 10, blocking: true }],
        quarantine: true,
        output: 'orders.clean',
      });
      expect(done.commitFailure).toContain("'row_count': 100 rows: more than 10");
      expect((await h.ops.showVersion('orders.clean')).version).toBe(before);
      expect((await h.ops.showVersion('orders.quarantine')).version).toBe(quarantineBefore + 1);
    });

    it('flags a volume anomaly against the history of earlier versions, then leaves it out of the baseline', async () => {
      const sizes = [100, 104, 97, 101, 99, 103, 98, 40, 102];
      const statuses: string[] = [];
      for (const size of sizes) {
        await write('volume', `select range as id from range(${size})`);
        const done = await check('volume', {
          checks: [{ type: 'anomaly', metric: 'row_count', min_points: 5 }],
        });
        expect(done.outcome.error?.message).toBeUndefined();
        const [result] = await quality.latestResults('volume');
        statuses.push(result?.status ?? 'none');
      }
      expect(statuses).toEqual([
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'pass',
        'pass',
        'error',
        'pass',
      ]);
      const history = await quality.metricHistory('volume', 'row_count');
      expect(history.map((p) => [p.version, p.value, p.anomaly])).toEqual(
        sizes.map((size, i) => [i + 1, size, size === 40]),
      );
    });

    it('rejects bad definitions naming the dataset, the check and the field', async () => {
      const missing = await check('orders', {
        checks: [{ type: 'range', column: 'amout', min: 0 }],
      });
      expect(missing.outcome.error?.message).toContain(
        "dataset 'orders': invalid quality checks:\n  check 'range.amout' (checks[0]) field 'column': no column 'amout' in dataset 'orders' (did you mean 'amount'?)",
      );
      expect(missing.outcome.exitReason).toBe('error_no_retry');
      const sql = await check('orders', {
        checks: [{ type: 'custom_sql', id: 'bad_sql', sql: 'select * frm data' }],
      });
      expect(sql.outcome.error?.message).toContain("check 'bad_sql' (checks[0]) field 'sql':");
      expect(sql.outcome.error?.message).toContain('syntax error');
      const unknown = await check('orders', { checks: [{ type: 'uniq', column: 'id' }] });
      expect(unknown.outcome.error?.message).toContain("field 'checks.0.type': must be one of");
      const threshold = await check('orders', {
        checks: [{ type: 'not_null', column: 'id', warn_if: 5 }],
      });
      expect(threshold.outcome.error?.message).toContain("field 'checks.0.warn_if'");
    });
  });
}
