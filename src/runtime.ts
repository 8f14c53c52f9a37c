/**
 * Puts Updraft together for one process: the store (migrated), the operations over it,
 * and — for `standalone` / `scheduler` — the pipeline watcher, the local executor and
 * the scheduler.
 *
 * A one-shot command (`scheduler: false`) on the embedded store first syncs the
 * pipelines folder into the store, so `updraft dags list` or `dags trigger` see the DAGs
 * as the files define them even when no scheduler has run yet.
 */
import os from 'node:os';
import path from 'node:path';
import { type Clock, systemClock } from './core/clock.ts';
import { createDataHooks } from './data/attempt-hooks.ts';
import { createExecutor } from './executor/create-executor.ts';
import type { ExecutorKind } from './executor/queue/queue-settings.ts';
import { DagProcessor } from './loader/dag-processor.ts';
import { loadPipelines } from './loader/load-pipelines.ts';
import { startAlerting } from './notify/alerting.ts';
import { startLogRetention } from './observability/log-retention.ts';
import { type Logger, silentLogger } from './observability/logger.ts';
import type { UpdraftMetrics } from './observability/metrics.ts';
import { startObservability } from './observability/observability.ts';
import type { Operations } from './ops/operations.ts';
import { StoreOperations } from './ops/store-operations.ts';
import { qualityAlertListener } from './quality/quality-alerts.ts';
import { withQualityHooks } from './quality/quality-hooks.ts';
import type { AttemptHooks } from './scheduler/attempt-hooks.ts';
import { Scheduler, type SchedulerStatus } from './scheduler/scheduler.ts';
import { removeDagFile, syncDagFile } from './store/queries/dags.ts';
import { type Db, openStore, type Store } from './store/store.ts';

export interface RuntimeOptions {
  /** Home folder: embedded store, logs, bundle cache. */
  home: string;
  /** Folder of pipeline files. */
  pipelinesDir: string;
  /** PostgreSQL URL; the embedded store in `<home>/db` when absent. */
  databaseUrl?: string | undefined;
  /** Worker processes of the local executor (default: the number of cores). */
  workers?: number | undefined;
  /**
   * `local` (worker processes here) or `queue` (`updraft worker` processes through
   * Redis, ADR 9); default `UPDRAFT_EXECUTOR`, else `local`.
   */
  executor?: ExecutorKind | undefined;
  /** Attempts queued or running at once (default 64). */
  parallelism?: number | undefined;
  /** Period of the scheduler's safety-net pass (default 5 s). */
  housekeepingMs?: number | undefined;
  /** Whether new DAGs start paused (default `UPDRAFT_PAUSED_ON_CREATION`, else false). */
  pausedOnCreation?: boolean | undefined;
  log?: Logger | undefined;
  clock?: Clock | undefined;
  /** Start the watcher, executor and scheduler (true) or only open the store (false). */
  scheduler: boolean;
  /** Sync the pipelines folder into the store once (default: one-shot on the embedded store). */
  syncPipelines?: boolean | undefined;
  /** Attempt hooks (inputs and outputs); default the data layer's, null for none. */
  hooks?: AttemptHooks | null;
}

export interface Runtime {
  ops: Operations;
  store: Store;
  /** Worker processes (0 without a scheduler). */
  workers: number;
  homeInfo: { home: string; logsDir: string; databaseLabel: string };
  /** The scheduler's status, or null without a scheduler. */
  schedulerStatus(): SchedulerStatus | null;
  /** The scheduler itself (benchmarks and tests wait on its ticks). */
  scheduler: Scheduler | null;
  /** Prometheus metrics of this process (`/metrics`), or null without a scheduler. */
  metrics: UpdraftMetrics | null;
  /** The executor's slots and attempts in flight (`/health`), or null without one. */
  executorStatus(): { name: string; slots: number; inFlight: number } | null;
  stop(): Promise<void>;
}

/** Opens and migrates the store, and starts the scheduler when asked. */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const log = options.log ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const home = path.resolve(options.home);
  const pipelinesDir = path.resolve(options.pipelinesDir);
  const logsDir = path.join(home, 'logs');
  const pausedOnCreation =
    options.pausedOnCreation ?? process.env.UPDRAFT_PAUSED_ON_CREATION === 'true';
  const store = await openStore({ databaseUrl: options.databaseUrl, home });
  const homeInfo = { home, logsDir, databaseLabel: `${store.kind} ${store.label}` };
  try {
    const applied = await store.migrate();
    if (applied.length) log.info({ migrations: applied }, 'migrated the store');
    const ops = new StoreOperations(store, clock);

    if (!options.scheduler) {
      if (options.syncPipelines ?? !options.databaseUrl) {
        await syncPipelinesOnce(store, pipelinesDir, home, clock, pausedOnCreation);
      }
      return {
        ops,
        store,
        workers: 0,
        homeInfo,
        scheduler: null,
        metrics: null,
        executorStatus: () => null,
        schedulerStatus: () => null,
        stop: () => store.close(),
      };
    }

    const executor = await createExecutor(options.executor, {
      workers: options.workers ?? os.availableParallelism(),
      home,
      pipelinesDir,
      clock,
      logger: log,
    });
    await executor.start();
    const workers = executor.capacity().slots;
    const scheduler = new Scheduler({
      store,
      executor,
      clock,
      log,
      logsDir,
      datasetsDir: path.join(home, 'datasets'),
      hooks:
        options.hooks === undefined
          ? withQualityHooks(createDataHooks({ home }), { home })
          : options.hooks,
      parallelism: options.parallelism,
      housekeepingMs: options.housekeepingMs ?? envMs('UPDRAFT_HOUSEKEEPING_MS'),
      leaseMs: envMs('UPDRAFT_SCHEDULER_LEASE_MS'),
      pausedOnCreation,
    });
    const observability = startObservability({ store, scheduler, executor, log });
    const executorStatus = () => {
      const capacity = executor.capacity();
      return { name: executor.name, slots: capacity.slots, inFlight: capacity.inFlight };
    };
    ops.setLiveHealth(() => ({ scheduler: scheduler.getStatus(), executor: executorStatus() }));
    const processor = new DagProcessor({
      pipelinesDir,
      home,
      clock,
      onResult: (result) => {
        scheduler
          .applyLoadedFile(result)
          .catch((err: unknown) =>
            log.error({ err, file: result.fileloc }, 'could not record a loaded pipeline file'),
          );
      },
      onRemoved: (fileloc) => {
        scheduler
          .applyRemovedFile(fileloc)
          .catch((err: unknown) =>
            log.error({ err, file: fileloc }, 'could not retire a removed pipeline file'),
          );
      },
      onError: (err) => log.warn({ err }, 'pipeline rescan failed'),
    });
    let alerting: Awaited<ReturnType<typeof startAlerting>> | undefined;
    let stopLogRetention = () => {};
    try {
      stopLogRetention = startLogRetention({ logsDir, clock, log });
      const initial = await processor.start();
      for (const file of initial) await scheduler.applyLoadedFile(file);
      const gone = await filesNoLongerPresent(
        store.db,
        initial.map((f) => f.fileloc),
      );
      for (const fileloc of gone) await scheduler.applyRemovedFile(fileloc);
      log.info({ files: initial.length, pipelinesDir }, 'loaded pipelines');
      alerting = await startAlerting(scheduler, {
        store,
        home,
        clock,
        log,
        onDeadlineMiss: (m) =>
          observability.metrics.deadlineMissed(m.dagId, m.task ? 'task' : 'run'),
        onNotification: observability.metrics.onNotification,
      });
      scheduler.onEvent(qualityAlertListener({ db: store.db, sink: alerting.dispatcher, log }));
      await scheduler.start();
    } catch (err) {
      stopLogRetention();
      await alerting?.stop();
      await processor.stop();
      await executor.stop();
      throw err;
    }
    return {
      ops,
      store,
      workers,
      homeInfo,
      scheduler,
      metrics: observability.metrics,
      executorStatus,
      schedulerStatus: () => scheduler.getStatus(),
      async stop() {
        await processor.stop();
        await scheduler.stop();
        await alerting?.stop();
        stopLogRetention();
        await observability.stop();
        await executor.stop();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** `updraft db migrate`: opens the store, applies pending migrations, closes it. */
export async function migrateDatabase(options: {
  home: string;
  databaseUrl?: string | undefined;
}): Promise<{ applied: string[] }> {
  const store = await openStore({
    databaseUrl: options.databaseUrl,
    home: path.resolve(options.home),
  });
  try {
    return { applied: await store.migrate() };
  } finally {
    await store.close();
  }
}

async function syncPipelinesOnce(
  store: Store,
  pipelinesDir: string,
  home: string,
  clock: Clock,
  paused: boolean,
) {
  const files = await loadPipelines(pipelinesDir, home, { clock });
  const now = new Date(clock.now());
  await store.transaction(async (tx) => {
    for (const file of files) await syncDagFile(tx, file, now, paused);
    for (const fileloc of await filesNoLongerPresent(
      tx,
      files.map((f) => f.fileloc),
    ))
      await removeDagFile(tx, fileloc);
  });
}

/** Files the store knows (active DAGs or import errors) that the loader did not find. */
async function filesNoLongerPresent(db: Db, present: string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('dags')
    .select('fileloc')
    .where('is_active', '=', true)
    .union(db.selectFrom('import_errors').select('fileloc'))
    .execute();
  const found = new Set(present);
  return [...new Set(rows.map((r) => r.fileloc))].filter((f) => !found.has(f));
}

/** A positive number of milliseconds from environment variable `name`, if set. */
function envMs(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new Error(`${name} must be a positive whole number of milliseconds, got '${text}'`);
  }
  return ms;
}
