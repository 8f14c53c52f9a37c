/**
 * Running the example pipelines in the whole engine (scheduler, worker processes, store,
 * data and quality hooks) against a small shop seeded into a fresh PostgreSQL database,
 * and reading the generator's rows for expectations computed without SQL.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDataHooks } from '../../src/data/attempt-hooks.ts';
import { StoreDatasetOperations, type VersionDetail } from '../../src/data/dataset-operations.ts';
import { SecretBox } from '../../src/data/secret-box.ts';
import { datasetsRootForHome, LocalDatasetStorage } from '../../src/data/storage.ts';
import { seedShop } from '../../src/examples/seed-shop.ts';
import { openPostgresSeedTarget } from '../../src/examples/seed-target.ts';
import { type ShopOptions, type ShopRow, shopTables } from '../../src/examples/shop-tables.ts';
import type { RunDetail } from '../../src/ops/operations.ts';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import { StoreQualityOperations } from '../../src/quality/quality-operations.ts';
import type { AttemptHooks } from '../../src/scheduler/attempt-hooks.ts';
import { openSourceDatabase, readVersionRows, type SourceDatabase } from '../data/support.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import type { StoreBackend } from '../support/stores.ts';

/** Source of an example pipeline file (`pipelines/<name>`). */
export function pipelineFile(name: string): string {
  return readFileSync(path.join(import.meta.dirname, '../../pipelines', name), 'utf8');
}

/** Every file under a folder of `pipelines/` (e.g. SQL models), by path relative to `pipelines/`. */
export function pipelineFolder(folder: string): Record<string, string> {
  const root = path.join(import.meta.dirname, '../../pipelines');
  const entries = readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true });
  return Object.fromEntries(
    entries
      .filter((e) => e.isFile())
      .map((e) => {
        const rel = path.relative(root, path.join(e.parentPath, e.name));
        return [rel, readFileSync(path.join(root, rel), 'utf8')];
      }),
  );
}

/**
 * The example pipeline files `names` (in `pipelines/`) with the shared code they import
 * (`pipelines/lib/`) and the ignore file that keeps the loader from loading it alone.
 */
export function pipelineFilesWithLib(...names: string[]): Record<string, string> {
  const files: Record<string, string> = {
    '.updraftignore': pipelineFile('.updraftignore'),
    ...pipelineFolder('lib'),
  };
  for (const name of names) files[name] = pipelineFile(name);
  return files;
}

/** Every row of a shop table as the generator makes it (columns in table order). */
export function shopRows(shop: ShopOptions, table: string): ShopRow[] {
  const found = shopTables(shop).find((t) => t.name === table);
  if (found === undefined) throw new Error(`no shop table '${table}'`);
  return [...found.batches(10_000)].flat();
}

/** A seeded source database and an engine running some example pipelines against it. */
export interface ExampleEngine {
  rt: TestRuntime;
  source: SourceDatabase;
  /** Triggers a manual run and waits until it is finished. */
  run(dagId: string, runId: string, params?: Record<string, unknown>): Promise<RunDetail>;
  /** Waits for a run to finish (after a clear, say). */
  waitForRun(dagId: string, runId: string): Promise<RunDetail>;
  /** The dataset registry (promote by hand, list versions). */
  datasets: StoreDatasetOperations;
  /** A version of a dataset (`name`, `name@alias`, `name@v3`). */
  version(ref: string): Promise<VersionDetail>;
  /** The rows of a dataset version, ordered by `orderBy` (SQL). */
  rows(ref: string, orderBy?: string): Promise<Record<string, unknown>[]>;
  /** Status of each check of the latest quality task on a dataset version, by check id. */
  checkStatuses(dataset: string, version?: number): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** How long one run of an example pipeline may take on a loaded test machine. */
const RUN_TIMEOUT_MS = 240_000;

/**
 * Seeds `shop` into a fresh PostgreSQL database, then starts a runtime whose pipelines
 * folder holds `files`, with the data and quality hooks, and a connections file naming
 * the source `shop_source` (plus `connections`, name → URL).
 */
export async function startExampleEngine(
  backend: StoreBackend,
  files: Record<string, string>,
  shop: ShopOptions,
  connections: Record<string, string> = {},
): Promise<ExampleEngine> {
  const source = await openSourceDatabase();
  let rt: TestRuntime | undefined;
  try {
    const target = await openPostgresSeedTarget(source.url, 'the source database');
    await seedShop(target, shop);
    await target.close();
    // The hooks need the runtime's home, which exists only once the runtime does.
    let hooks: AttemptHooks | undefined;
    const late: AttemptHooks = {
      needsPreparation: (task) => hooks?.needsPreparation(task) ?? false,
      prepareAttempt: (db, t) => (hooks as AttemptHooks).prepareAttempt(db, t),
      commitEffects: (db, t, effects) => (hooks as AttemptHooks).commitEffects(db, t, effects),
    };
    // Paused: no scheduled run starts beside the runs a test triggers (manual runs of
    // a paused DAG still run).
    const paused = process.env.UPDRAFT_PAUSED_ON_CREATION;
    process.env.UPDRAFT_PAUSED_ON_CREATION = 'true';
    try {
      rt = await startTestRuntime(backend, files, { hooks: late, nodeModules: true });
    } finally {
      if (paused === undefined) delete process.env.UPDRAFT_PAUSED_ON_CREATION;
      else process.env.UPDRAFT_PAUSED_ON_CREATION = paused;
    }
    const home = rt.home;
    const lines = Object.entries({ shop_source: source.url, ...connections }).map(
      ([name, url]) => `${name}: ${url}\n`,
    );
    writeFileSync(path.join(home, 'connections.yaml'), lines.join(''));
    hooks = withQualityHooks(createDataHooks({ home }), { home });
    const ops = new StoreDatasetOperations({
      store: rt.runtime.store,
      storage: new LocalDatasetStorage(datasetsRootForHome(home)),
      secrets: () => SecretBox.fromEnv({}),
      connectionsFile: path.join(home, 'connections.yaml'),
    });
    const quality = new StoreQualityOperations(
      rt.runtime.store,
      new LocalDatasetStorage(datasetsRootForHome(home)),
    );
    const started = rt;
    const engine: ExampleEngine = {
      rt: started,
      source,
      async run(dagId, runId, params) {
        await started.runtime.ops.triggerRun(dagId, { runId, ...(params ? { params } : {}) });
        return started.waitForRun(dagId, runId, RUN_TIMEOUT_MS);
      },
      waitForRun: (dagId, runId) => started.waitForRun(dagId, runId, RUN_TIMEOUT_MS),
      datasets: ops,
      version: (ref) => ops.showVersion(ref),
      async rows(ref, orderBy = '1') {
        return readVersionRows((await ops.showVersion(ref)).location, orderBy);
      },
      async checkStatuses(dataset, version) {
        const results = await quality.latestResults(dataset, version);
        return Object.fromEntries(results.map((r) => [r.checkId, r.status]));
      },
      async close() {
        await started.close();
        await source.close();
      },
    };
    return engine;
  } catch (error) {
    await rt?.close();
    await source.close();
    throw error;
  }
}

/** Whether a number read back equals `expected` to 1e-9 (relative above 1); null to null. */
export function near(actual: unknown, expected: number | null): boolean {
  if (expected === null) return actual === null;
  return Math.abs(Number(actual) - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

/** Milliseconds of a timestamp as the generator and DuckDB write it (`2025-01-02 03:04:05+00`). */
export function timestampMs(text: unknown): number {
  return Date.parse(String(text).replace(' ', 'T').replace(/\+00$/, 'Z'));
}

/** Task states of a run, by task id. */
export function taskStates(run: RunDetail): Record<string, string> {
  return Object.fromEntries(run.tasks.map((t) => [t.taskId, t.state]));
}
