/**
 * The operations report from a real store (runs, success rate, MTTR, deadline misses,
 * durations, rows written, quality failures), `updraft report`, `updraft health` (exit 1
 * without a scheduler) and `updraft logs cleanup`, and secret masking in component logs.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { recordDeadlineMiss } from '../../src/notify/deadline-misses.ts';
import { startLogRetention } from '../../src/observability/log-retention.ts';
import {
  componentLogOptions,
  registerSecret,
  silentLogger,
} from '../../src/observability/logger.ts';
import { reportHtml, reportMarkdown } from '../../src/observability/operations-report.ts';
import { runTraceIds } from '../../src/observability/trace-context.ts';
import { createWorkspace, runCli, type Workspace } from '../cli/helpers.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PIPELINE = `
import { dag, TaskFailure } from 'updraft';
export default dag({ id: 'ops', params: { type: 'object', properties: { fail: { type: 'boolean', default: false } } } }, (d) => {
  d.task('work', (ctx) => {
    if (ctx.params.fail) throw new TaskFailure('asked to fail', { retry: false });
    return 1;
  });
});
`;

for (const backend of STORE_BACKENDS) {
  describe(`operations report on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('counts runs, success rate, MTTR, deadline misses, durations, rows and quality failures', async () => {
      rt = await startTestRuntime(backend, { 'ops.ts': PIPELINE });
      const ops = rt.runtime.ops;
      for (const [runId, fail] of [
        ['r1', true],
        ['r2', false],
        ['r3', true],
        ['r4', true],
        ['r5', false],
      ] as const) {
        await ops.triggerRun('ops', { runId, params: { fail } });
        await rt.waitForRun('ops', runId);
      }
      const db = rt.runtime.store.db;
      const run = await db
        .selectFrom('dag_runs')
        .select(['id'])
        .where('run_id', '=', 'r3')
        .executeTakeFirstOrThrow();
      await recordDeadlineMiss(
        db,
        {
          runPk: run.id,
          dagId: 'ops',
          runId: 'r3',
          taskId: null,
          deadline: { afterMs: 1000, from: 'start' },
          dueAt: new Date(),
        },
        new Date(),
      );
      await sql`insert into datasets (name) values ('orders')`.execute(db);
      await sql`insert into dataset_versions (dataset, version, path, manifest, row_count, bytes, file_count, dag_id)
        values ('orders', 1, 'orders/v1', '{}', 1200, 10, 1, 'ops'),
               ('orders', 2, 'orders/v2', '{}', 34, 10, 1, 'ops')`.execute(db);
      await sql`insert into quality_results (dataset, version, dag_id, run_id, task_id, try_number, check_id, check_type,
          severity, blocking, status, message, checked_at)
        values ('orders', 2, 'ops', 'r3', 'work', 1, 'not_null_id', 'not_null', 'error', true, 'error', 'nulls', now()),
               ('orders', 2, 'ops', 'r3', 'work', 1, 'rows', 'row_count', 'warn', false, 'warn', 'few rows', now()),
               ('orders', 1, 'ops', 'r2', 'work', 1, 'not_null_id', 'not_null', 'error', true, 'pass', 'ok', now())`.execute(
        db,
      );

      const report = await ops.operationsReport({
        since: new Date(Date.now() - 3_600_000).toISOString(),
      });
      const runs = await ops.listRuns('ops');
      const ended = new Map(runs.map((r) => [r.runId, Date.parse(r.endedAt ?? '')]));
      const mttr =
        ((ended.get('r2') ?? 0) -
          (ended.get('r1') ?? 0) +
          (ended.get('r5') ?? 0) -
          (ended.get('r3') ?? 0)) /
        2;
      expect(report.dags).toHaveLength(1);
      expect(report.dags[0]).toMatchObject({
        dagId: 'ops',
        runs: 5,
        succeeded: 2,
        failed: 3,
        successRate: 0.4,
        recoveries: 2,
        meanTimeToRecoverMs: mttr,
        deadlineMisses: 1,
        rowsWritten: 1234,
        qualityFailures: 2,
      });
      expect(report.dags[0]?.durationTrend).toEqual([
        { day: new Date().toISOString().slice(0, 10), runs: 5, meanDurationMs: expect.any(Number) },
      ]);
      expect(report.overall).toMatchObject({
        dagId: null,
        runs: 5,
        recoveries: 2,
        meanTimeToRecoverMs: mttr,
      });

      const md = reportMarkdown(report);
      expect(md).toContain('| ops | 5 | 40.0% | 3 |');
      expect(md).toContain('| **all** | 5 | 40.0% | 3 |');
      const html = reportHtml(report);
      expect(html).toContain('<th>ops</th><td>5</td><td>40.0%</td><td>3</td>');

      const empty = await ops.operationsReport({ since: '2001-01-01', until: '2001-01-08' });
      expect(empty).toMatchObject({
        dags: [],
        overall: { runs: 0, successRate: null, meanTimeToRecoverMs: null },
      });
      await expect(ops.operationsReport({ since: 'last tuesday' })).rejects.toThrow(
        "since: 'last tuesday' is not a date",
      );
    });
  });
}

describe('updraft report, health and logs cleanup', () => {
  let ws: Workspace | undefined;
  afterEach(() => {
    ws?.remove();
    ws = undefined;
  });

  it('prints the report, exits 1 from health without a scheduler, and removes old logs', async () => {
    ws = createWorkspace();
    const md = await runCli([...ws.args, 'report', '--since', '7d']);
    expect(md.stderr).toBe('');
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('# Updraft operations report');
    expect(md.stdout).toContain('| **all** | 0 | – |');
    const html = await runCli([
      ...ws.args,
      'report',
      '--format',
      'html',
      '--output',
      path.join(ws.root, 'r.html'),
    ]);
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('report written to');
    const bad = await runCli([...ws.args, 'report', '--since', 'yesterdayish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "expected a duration such as 7d, 12h or 30 days, or an ISO date; got 'yesterdayish'",
    );

    const health = await runCli([...ws.args, 'health']);
    expect(health.code).toBe(1);
    expect(health.stdout).toContain('unhealthy');
    expect(health.stdout).toContain('no scheduler is running');
    const json = await runCli([...ws.args, 'health', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'unhealthy',
      store: { kind: 'pglite', ok: true },
    });

    const dir = path.join(ws.home, 'logs', 'dag_id=etl', 'run_id=r1', 'task_id=load');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'attempt=1.log'), 'old\n');
    writeFileSync(path.join(dir, 'attempt=2.log'), 'new\n');
    writeFileSync(path.join(ws.home, 'logs', 'updraft.log'), 'own log\n');
    const old = new Date(Date.now() - 40 * 86_400_000);
    utimesSync(path.join(dir, 'attempt=1.log'), old, old);
    utimesSync(path.join(ws.home, 'logs', 'updraft.log'), old, old);
    const dry = await runCli([...ws.args, 'logs', 'cleanup', '--older-than', '30d', '--dry-run']);
    expect(dry.stdout).toContain('would remove 1 log file(s)');
    expect(readdirSync(dir).sort()).toEqual(['attempt=1.log', 'attempt=2.log']);
    const done = await runCli([...ws.args, 'logs', 'cleanup', '--older-than', '30d']);
    expect(done.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['attempt=2.log']);
    expect(readdirSync(path.join(ws.home, 'logs')).sort()).toEqual(['dag_id=etl', 'updraft.log']);
    utimesSync(path.join(dir, 'attempt=2.log'), old, old);
    await runCli([...ws.args, 'logs', 'cleanup', '--older-than', '30d']);
    expect(readdirSync(path.join(ws.home, 'logs'))).toEqual(['updraft.log']);
  }, 120_000);
});

describe('component logs', () => {
  it('mask secrets and carry the run trace id', () => {
    const lines: string[] = [];
    const log = pino(componentLogOptions('info'), { write: (line: string) => lines.push(line) });
    registerSecret('hunter2-token');
    log.info(
      { password: 'pw1', connection: { token: 'tok-abc' }, dagId: 'etl', runId: 'r1' },
      'connecting',
    );
    log.warn({ url: 'postgres://etl:s3cret@db:5432/x' }, 'using hunter2-token for the webhook');
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      password: '***',
      connection: { token: '***' },
      trace_id: runTraceIds('etl', 'r1').traceId,
    });
    expect(second).toMatchObject({
      url: 'postgres://etl:***@db:5432/x',
      msg: 'using *** for the webhook',
    });
    expect(lines.join('')).not.toMatch(/pw1|tok-abc|s3cret|hunter2/);
  });
});

describe('log retention', () => {
  it('sweeps old task logs at start and daily on the clock; refuses a bad retention', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-retention-'));
    try {
      const clock = new ManualClock(Date.now());
      const attempt = (name: string) => {
        const d = path.join(dir, 'dag_id=etl', 'run_id=r1', 'task_id=t');
        mkdirSync(d, { recursive: true });
        writeFileSync(path.join(d, name), 'line\n');
        return path.join(d, name);
      };
      const old = attempt('attempt=1.log');
      const then = new Date(clock.now() - 2 * 86_400_000);
      utimesSync(old, then, then);
      const fresh = attempt('attempt=2.log');
      const stop = startLogRetention({
        logsDir: dir,
        clock,
        log: silentLogger(),
        env: { UPDRAFT_LOG_RETENTION: '1d' },
      });
      const until = async (check: () => boolean) => {
        for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
        expect(check()).toBe(true);
      };
      await until(() => !existsSync(old));
      expect(existsSync(fresh)).toBe(true);
      clock.advance(2 * 86_400_000); // the sweep at +1d keeps it (a day old exactly), +2d removes it
      await until(() => !existsSync(fresh));
      stop();

      for (const bad of ['5 minutes', 'weekly', '-1d']) {
        expect(() =>
          startLogRetention({
            logsDir: dir,
            clock,
            log: silentLogger(),
            env: { UPDRAFT_LOG_RETENTION: bad },
          }),
        ).toThrow(
          `UPDRAFT_LOG_RETENTION='${bad}' is not a retention: use a duration of an hour or more, e.g. 30d`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
