/**
 * The data layer's test harness: a real store (PGlite or PostgreSQL, from
 * `test/support/stores.ts`), the data hooks over it, dataset storage in the store's
 * home, and attempts run through the real task runner (`runAttempt`) — prepare in one
 * transaction, run, commit the effects in another, as the scheduler does.
 * `openSourceDatabase` gives a fresh PostgreSQL database for operators to read and write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Json, TaskSpec } from '../../src/core/dag-spec.ts';
import { createDataHooks } from '../../src/data/attempt-hooks.ts';
import { StoreDatasetOperations } from '../../src/data/dataset-operations.ts';
import { SecretBox } from '../../src/data/secret-box.ts';
import { datasetsRootForHome, LocalDatasetStorage } from '../../src/data/storage.ts';
import type { AttemptOutcome, AttemptRequest } from '../../src/executor/executor.ts';
import { runAttempt } from '../../src/executor/task-runner.ts';
import type { AttemptHooks, HookTarget } from '../../src/scheduler/attempt-hooks.ts';
import { toJson } from '../../src/store/store.ts';
import { dagSpec, type TaskInput, taskSpec } from '../support/specs.ts';
import type { StoreBackend, TestStore } from '../support/stores.ts';

export const TEST_SECRET_KEY = 'test-key-0123456789abcdef';

export interface DataHarness extends TestStore {
  hooks: AttemptHooks;
  ops: StoreDatasetOperations;
  storage: LocalDatasetStorage;
  datasetsRoot: string;
  /** Folder of the fake pipeline file (operators resolve relative paths against it). */
  pipelineDir: string;
  secrets: SecretBox;
  /** Inserts a run of `dagId`; returns its primary key. */
  createRun(dagId: string, runId: string, state?: string): Promise<number>;
  /** Prepares, runs and commits one attempt; see `runTask`. */
  runTask(run: RunRef, task: TaskInput, options?: RunTaskOptions): Promise<TaskRun>;
}

export interface RunRef {
  runPk: number;
  dagId: string;
  runId: string;
}

export interface RunTaskOptions {
  tryNumber?: number;
  /** Aborts the attempt (a kill) with this signal. */
  signal?: AbortSignal;
  /** Skip the commit (the attempt "died" before its success was recorded). */
  commit?: boolean;
  /** Run parameters the task sees (default none). */
  params?: { [key: string]: Json };
}

export interface TaskRun {
  outcome: AttemptOutcome;
  task: TaskSpec;
  updatedDatasets: string[];
  /** The commit kept the effects but failed the attempt with this message. */
  commitFailure?: string;
}

/** A harness on a fresh store of `backend`. */
export async function openDataHarness(
  backend: StoreBackend,
  options: {
    wrapHooks?: (hooks: AttemptHooks, home: string) => AttemptHooks;
    /**
     * Source of the harness's pipeline file, for `ts` tasks (the `ts` operator imports it
     * and bundles it into the home's cache: `UPDRAFT_HOME` points there until `close`).
     */
    pipeline?: string;
  } = {},
): Promise<DataHarness> {
  const test = await backend.open();
  const datasetsRoot = datasetsRootForHome(test.home);
  const storage = new LocalDatasetStorage(datasetsRoot);
  const secrets = SecretBox.fromEnv({ UPDRAFT_SECRET_KEY: TEST_SECRET_KEY });
  const connectionsFile = path.join(test.home, 'connections.yaml');
  const dataHooks = createDataHooks({ home: test.home, storage, secrets, connectionsFile });
  const hooks = options.wrapHooks?.(dataHooks, test.home) ?? dataHooks;
  const ops = new StoreDatasetOperations({
    store: test.store,
    storage,
    secrets: () => secrets,
    connectionsFile,
  });
  const pipelineDir = path.join(test.home, 'pipelines');
  mkdirSync(pipelineDir, { recursive: true });
  writeFileSync(
    path.join(pipelineDir, 'etl.ts'),
    options.pipeline ?? '// the harness runs operators, not this file\n',
  );
  const previousHome = process.env.UPDRAFT_HOME;
  if (options.pipeline !== undefined) process.env.UPDRAFT_HOME = test.home;
  let attempts = 0;

  const harness: DataHarness = {
    ...test,
    async close() {
      if (options.pipeline !== undefined) {
        if (previousHome === undefined) delete process.env.UPDRAFT_HOME;
        else process.env.UPDRAFT_HOME = previousHome;
      }
      await test.close();
    },
    hooks,
    ops,
    storage,
    datasetsRoot,
    pipelineDir,
    secrets,
    async createRun(dagId, runId, state = 'running') {
      const now = new Date();
      const row = await test.store.db
        .insertInto('dag_runs')
        .values({
          dag_id: dagId,
          run_id: runId,
          run_type: 'manual',
          state: state as 'running',
          logical_date: now,
          data_interval_start: now,
          data_interval_end: now,
          run_after: now,
          params: '{}',
          version_hash: 'test-version',
          backfill_id: null,
          queued_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async runTask(run, input, options = {}) {
      const task = taskSpec(input);
      const tryNumber = options.tryNumber ?? 1;
      const target: HookTarget = { ...run, task, mapIndex: -1, tryNumber };
      const prepared = hooks.needsPreparation(task)
        ? await test.store.transaction((tx) => hooks.prepareAttempt(tx, target))
        : {};
      const request = attemptRequest(harness, run, task, tryNumber, prepared, ++attempts);
      if (options.params !== undefined) request.context.params = options.params;
      const outcome = await runAttempt(request, {
        signal: options.signal ?? new AbortController().signal,
        abortGraceMs: 10_000,
      });
      let updatedDatasets: string[] = [];
      let commitFailure: string | undefined;
      if (outcome.outcome === 'success' && outcome.effects && options.commit !== false) {
        const effects = outcome.effects;
        const committed = await test.store.transaction((tx) =>
          hooks.commitEffects(tx, target, effects),
        );
        updatedDatasets = committed.updatedDatasets;
        commitFailure = committed.failure;
      }
      return { outcome, task, updatedDatasets, commitFailure };
    },
  };
  return harness;
}

/** The request a worker would get for `task` in `run` (as the scheduler builds it). */
export function attemptRequest(
  h: Pick<DataHarness, 'home' | 'pipelineDir' | 'datasetsRoot'>,
  run: RunRef,
  task: TaskSpec,
  tryNumber: number,
  prepared: Pick<AttemptRequest['context'], 'inputs' | 'connections'> = {},
  logSuffix: number | string = tryNumber,
): AttemptRequest {
  return {
    key: { dagId: run.dagId, runId: run.runId, taskId: task.taskId, mapIndex: -1, tryNumber },
    fileloc: path.join(h.pipelineDir, 'etl.ts'),
    codeHash: 'test-code',
    task,
    context: {
      runType: 'manual',
      logicalDate: '2026-01-01T00:00:00.000Z',
      dataIntervalStart: '2026-01-01T00:00:00.000Z',
      dataIntervalEnd: '2026-01-02T00:00:00.000Z',
      params: {},
      maxTries: task.retries + 1,
      upstreamResults: {},
      ...prepared,
    },
    logPath: path.join(h.home, 'logs', `${task.taskId}-${logSuffix}.log`),
    datasetsRoot: h.datasetsRoot,
  };
}

const ADMIN_URL =
  process.env.UPDRAFT_TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

export interface SourceDatabase {
  url: string;
  client: pg.Client;
  close(): Promise<void>;
}

/** A fresh PostgreSQL database on the test server, dropped on close. */
export async function openSourceDatabase(): Promise<SourceDatabase> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const name = `updraft_src_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return {
    url: url.toString(),
    client,
    async close() {
      await client.end();
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Rows of a dataset version, read back with DuckDB (as any Parquet reader would). */
export async function readVersionRows(
  folder: string,
  orderBy = '1',
): Promise<Record<string, unknown>[]> {
  const { DuckDbSession, readParquetSql } = await import('../../src/data/duckdb-session.ts');
  const session = await DuckDbSession.open();
  try {
    return await session.rows(
      `select * from ${readParquetSql(folder)} order by ${orderBy}`,
      'test',
    );
  } finally {
    session.close();
  }
}

/**
 * Runs `fn` while sampling this process's RSS; returns its value and how far RSS rose
 * above where it was when `fn` started.
 */
export async function rssGrowthDuring<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; growth: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const value = await fn();
    return { value, growth: Math.max(peak, process.memoryUsage().rss) - before };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Records the DAG version the harness's runs use (`version_hash` 'test-version'), as the
 * loader would, with `tasks`: what reads a run's spec back (a quarantine replay) finds it.
 * Replaces an earlier record of `dagId`.
 */
export async function recordDagVersion(
  h: Pick<DataHarness, 'store' | 'pipelineDir'>,
  dagId: string,
  tasks: TaskSpec[],
): Promise<void> {
  await h.store.db.deleteFrom('dag_versions').where('dag_id', '=', dagId).execute();
  await h.store.db
    .insertInto('dag_versions')
    .values({
      dag_id: dagId,
      version_hash: 'test-version',
      code_hash: 'test-code',
      fileloc: path.join(h.pipelineDir, 'etl.ts'),
      spec: toJson(dagSpec({ dagId, tasks })),
    })
    .execute();
}

/**
 * Seeds the datasets the quality CLI tests read, in one run `etl/r1` (its state `runState`):
 * - `sales`: one version per entry of `nullsPerVersion` (ids 0-9, the first n values of `v`
 *   null), each checked by a quality task (`not_null.v` blocking, `unique.id`);
 * - `stock`: one version with 2 nulls, checked with `quarantine: true` (its failing rows
 *   leave the flow for `stock.quarantine`, to be replayed into `stock.clean`).
 * Records the DAG version with the quality tasks, as a quarantine replay reads it back.
 * The harness must wrap its hooks with the quality hooks.
 */
export async function seedCheckedDatasets(
  h: DataHarness,
  nullsPerVersion: number[],
  runState = 'running',
): Promise<void> {
  const run = { runPk: await h.createRun('etl', 'r1', runState), dagId: 'etl', runId: 'r1' };
  const tasks: TaskSpec[] = [];
  for (const [index, nulls] of nullsPerVersion.entries()) {
    await h.runTask(run, {
      taskId: 'w',
      operator: 'duckdb',
      config: {
        query: `select range as id, case when range < ${nulls} then null else range end as v from range(10)`,
        output: 'sales',
      },
    });
    const quality = await h.runTask(run, {
      taskId: `q${index}`,
      operator: 'quality',
      inlets: ['sales'],
      config: {
        checks: [
          { type: 'not_null', column: 'v', blocking: true },
          { type: 'unique', column: 'id' },
        ],
      } as never,
    });
    tasks.push(quality.task);
  }
  await h.runTask(run, {
    taskId: 'w_stock',
    operator: 'duckdb',
    config: {
      query:
        'select range::int as id, case when range < 2 then null else range::int end as v from range(10)',
      output: 'stock',
    },
  });
  const gate = await h.runTask(run, {
    taskId: 'gate',
    operator: 'quality',
    inlets: ['stock'],
    config: { checks: [{ type: 'not_null', column: 'v' }], quarantine: true } as never,
  });
  tasks.push(gate.task);
  await recordDagVersion(h, 'etl', tasks);
}

/**
 * Turns version `version` of `dataset` into a version of many small files, as an
 * appending writer would leave it: five extra Parquet files, a fifth of its rows each,
 * registered (row and `manifest.json`) as its files, so its rows double. Returns the
 * files and rows it has now.
 */
export async function fragmentVersion(
  store: TestStore['store'],
  ops: StoreDatasetOperations,
  dataset: string,
  version: number,
): Promise<{ files: number; rows: number }> {
  const before = await ops.showVersion(`${dataset}@v${version}`);
  const { DuckDbSession, readParquetSql, sqlString } = await import(
    '../../src/data/duckdb-session.ts'
  );
  const { describeFolder } = await import('../../src/data/stage-version.ts');
  const { writeManifestFile } = await import('../../src/data/manifest-file.ts');
  const session = await DuckDbSession.open();
  try {
    // Read once: the folder gains the extra files as they are written.
    await session.run(
      `create temp table fragment_source as select *, row_number() over () as _n from ${readParquetSql(before.location)}`,
      'test',
    );
    for (let i = 0; i < 5; i++) {
      const file = sqlString(path.join(before.location, `extra-${i}.parquet`));
      await session.run(
        `copy (select * exclude (_n) from fragment_source where _n % 5 = ${i}) to ${file} (format parquet)`,
        'test',
      );
    }
    const described = await describeFolder(session, before.location, 'test');
    const manifest = { ...before.manifest, files: described.files, bytes: described.bytes };
    await store.db
      .updateTable('dataset_versions' as never)
      .set({
        manifest: JSON.stringify(manifest),
        row_count: described.rowCount,
        file_count: described.files.length,
        bytes: described.bytes,
      } as never)
      .where('dataset' as never, '=', dataset as never)
      .where('version' as never, '=', version as never)
      .execute();
    await writeManifestFile(before.location, manifest);
    return { files: described.files.length, rows: described.rowCount };
  } finally {
    session.close();
  }
}
