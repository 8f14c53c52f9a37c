/**
 * Several schedulers on one PostgreSQL store (ADR 11): two schedulers racing on the same
 * DAGs and pool never run a task instance twice nor exceed the pool, and a scheduler
 * killed with SIGKILL mid-run has its attempts taken over by the other. Every task
 * appends to a ledger keyed by attempt, which the assertions read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../src/runtime.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const postgres = STORE_BACKENDS.find((b) => b.name === 'postgres');
const REPO = path.resolve(import.meta.dirname, '../..');

/** A DAG of `count` independent tasks in pool `narrow`, each sleeping `ms` and writing the ledger. */
function pipeline(ledger: string, count: number, ms: number): string {
  return `
import { appendFileSync } from 'node:fs';
import { dag } from 'updraft';
export default dag({ id: 'race', maxActiveTasks: 50 }, (d) => {
  for (let i = 0; i < ${count}; i++) {
    d.task(\`t\${i}\`, { pool: 'narrow' }, async (ctx) => {
      const start = Date.now();
      await new Promise((r) => setTimeout(r, ${ms}));
      appendFileSync(${JSON.stringify(ledger)}, JSON.stringify({ run: ctx.runId, task: ctx.taskId, try: ctx.tryNumber, start, end: Date.now() }) + '\\n');
    });
  }
});
`;
}

interface Entry {
  run: string;
  task: string;
  try: number;
  start: number;
  end: number;
}

function readLedger(file: string): Entry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Entry);
}

/** Most intervals of the ledger open at one instant. */
function maxOverlap(entries: Entry[]): number {
  const points = entries.flatMap((e) => [
    { at: e.start, d: 1 },
    { at: e.end, d: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const p of points) {
    open += p.d;
    max = Math.max(max, open);
  }
  return max;
}

describe.skipIf(postgres === undefined)('several schedulers on one PostgreSQL store', () => {
  let rt: TestRuntime | undefined;
  let second: Runtime | undefined;
  let child: ChildProcess | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    child?.kill('SIGKILL');
    await second?.stop();
    await rt?.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    child = undefined;
    second = undefined;
    rt = undefined;
  });

  function tempDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-ha-'));
    dirs.push(dir);
    return dir;
  }

  it('two schedulers racing run every task instance once, within the pool', async () => {
    const ledger = path.join(tempDir(), 'ledger.jsonl');
    appendFileSync(ledger, '');
    rt = await startTestRuntime(
      postgres!,
      { 'race.ts': pipeline(ledger, 12, 120) },
      { housekeepingMs: 300 },
    );
    await rt.runtime.ops.setPool('narrow', 3);
    second = await startRuntime({
      home: tempDir(),
      pipelinesDir: rt.pipelinesDir,
      databaseUrl: rt.databaseUrl,
      scheduler: true,
      workers: 2,
      housekeepingMs: 300,
    });
    for (const runId of ['r1', 'r2', 'r3']) await rt.runtime.ops.triggerRun('race', { runId });
    for (const runId of ['r1', 'r2', 'r3']) {
      expect((await rt.waitForRun('race', runId, 90_000)).state).toBe('success');
    }
    const entries = readLedger(ledger);
    expect(entries).toHaveLength(36);
    expect(new Set(entries.map((e) => `${e.run}/${e.task}`)).size).toBe(36);
    expect(entries.every((e) => e.try === 1)).toBe(true);
    expect(maxOverlap(entries)).toBeLessThanOrEqual(3);
    const queuedBy = await rt.runtime.store.db
      .selectFrom('task_attempts')
      .select('scheduler_id')
      .distinct()
      .execute();
    expect(queuedBy.length).toBe(2);
  }, 120_000);

  it('a scheduler killed with SIGKILL mid-run has its attempts taken over by the other', async () => {
    const ledger = path.join(tempDir(), 'ledger.jsonl');
    appendFileSync(ledger, '');
    process.env.UPDRAFT_SCHEDULER_LEASE_MS = '1500';
    try {
      rt = await startTestRuntime(
        postgres!,
        { 'race.ts': pipeline(ledger, 8, 1500) },
        { housekeepingMs: 300 },
      );
    } finally {
      delete process.env.UPDRAFT_SCHEDULER_LEASE_MS;
    }
    await rt.runtime.ops.setPool('narrow', 4);
    const surviving = rt.runtime.scheduler!.id;
    // The other scheduler is a real process, killed without warning.
    child = spawn(
      process.execPath,
      [
        path.join(REPO, 'bin/updraft.js'),
        'scheduler',
        '--home',
        tempDir(),
        '--pipelines',
        rt.pipelinesDir,
        '--workers',
        '2',
      ],
      {
        env: {
          ...process.env,
          UPDRAFT_DATABASE_URL: rt.databaseUrl,
          UPDRAFT_HOUSEKEEPING_MS: '300',
        },
        stdio: 'ignore',
        detached: true,
      },
    );
    const killed = child;
    await rt.waitFor(
      async () => {
        const others = await rt!.runtime.store.db
          .selectFrom('schedulers')
          .select('id')
          .where('id', '!=', surviving)
          .execute();
        return others.length ? true : undefined;
      },
      'the second scheduler to register',
      60_000,
    );
    await rt.runtime.ops.triggerRun('race', { runId: 'r1' });
    await rt.waitFor(
      async () => {
        const running = await rt!.runtime.store.db
          .selectFrom('task_attempts')
          .select('task_id')
          .where('scheduler_id', '!=', surviving)
          .where('state', '=', 'running')
          .execute();
        return running.length ? true : undefined;
      },
      'an attempt of the second scheduler to run',
      60_000,
    );
    process.kill(-killed.pid!, 'SIGKILL'); // the scheduler and its worker processes
    const done = await rt.waitForRun('race', 'r1', 90_000);
    expect(done.state).toBe('success');
    const attempts = await rt.runtime.store.db
      .selectFrom('task_attempts')
      .select(['task_id', 'try_number', 'state', 'exit_reason', 'error'])
      .execute();
    const interrupted = attempts.filter((a) => a.exit_reason === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted[0]?.error).toMatch(/scheduler stopped beating/);
    // Every task succeeded once; no try was recorded twice in the ledger.
    expect(attempts.filter((a) => a.state === 'success')).toHaveLength(8);
    const entries = readLedger(ledger);
    const keys = entries.map((e) => `${e.task}/${e.try}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(entries.map((e) => e.task)).size).toBe(8);
  }, 150_000);
});

describe.skipIf(postgres === undefined)('PostgreSQL connections terminated mid-run', () => {
  let rt: TestRuntime | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('every run finishes, each task once, after pg_terminate_backend kills every connection', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-pgkill-'));
    dirs.push(dir);
    const ledger = path.join(dir, 'ledger.jsonl');
    appendFileSync(ledger, '');
    rt = await startTestRuntime(
      postgres!,
      { 'race.ts': pipeline(ledger, 10, 400) },
      { housekeepingMs: 300 },
    );
    await rt.runtime.ops.setPool('narrow', 2);
    await rt.runtime.ops.triggerRun('race', { runId: 'r1' });
    await rt.waitFor(
      async () => (readLedger(ledger).length >= 2 ? true : undefined),
      'the first tasks to finish',
      60_000,
    );
    // Kill every connection of the test database, from a connection of its own.
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: rt.databaseUrl });
    await admin.connect();
    const killed = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    await admin.end();
    expect(killed.rowCount).toBeGreaterThan(0);
    const done = await rt.waitForRun('race', 'r1', 90_000);
    expect(done.state).toBe('success');
    const entries = readLedger(ledger);
    expect(entries.map((e) => e.task).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `t${i}`).sort(),
    );
    expect(maxOverlap(entries)).toBeLessThanOrEqual(2);
  }, 150_000);
});
