/**
 * A whole Updraft (loader, local executor, scheduler) over a test store and a temp
 * pipelines folder, plus waiting helpers that listen to scheduler ticks instead of
 * sleeping.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../src/core/clock.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { RunDetail } from '../../src/ops/operations.ts';
import { type Runtime, startRuntime } from '../../src/runtime.ts';
import type { AttemptHooks } from '../../src/scheduler/attempt-hooks.ts';
import type { StoreBackend } from './stores.ts';

export interface TestRuntime {
  /** The current runtime (replaced by `restart`). */
  runtime: Runtime;
  home: string;
  pipelinesDir: string;
  /** The PostgreSQL URL of the test database (undefined on PGlite). */
  databaseUrl: string | undefined;
  /** Waits (on scheduler ticks) until the run is finished; fails after `timeoutMs`. */
  waitForRun(dagId: string, runId: string, timeoutMs?: number): Promise<RunDetail>;
  /** Stops this runtime (as Ctrl-C would) and starts a new one on the same store and home. */
  restart(): Promise<void>;
  /** Waits until `check` returns a value other than undefined. */
  waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/**
 * Starts a runtime whose pipelines folder holds `files` (relative path → text). With
 * `nodeModules`, the home gets a link to this repository's `node_modules`, so pipeline
 * files import npm packages as they do from the repository's `pipelines/` folder.
 */
export async function startTestRuntime(
  backend: StoreBackend,
  files: Record<string, string>,
  options: {
    clock?: Clock;
    workers?: number;
    housekeepingMs?: number;
    hooks?: AttemptHooks;
    nodeModules?: boolean;
  } = {},
): Promise<TestRuntime> {
  const t = await backend.open();
  const pipelinesDir = path.join(t.home, 'pipelines');
  mkdirSync(pipelinesDir, { recursive: true });
  if (options.nodeModules) {
    symlinkSync(
      path.join(import.meta.dirname, '../../node_modules'),
      path.join(t.home, 'node_modules'),
    );
  }
  for (const [name, source] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(pipelinesDir, name)), { recursive: true });
    writeFileSync(path.join(pipelinesDir, name), source);
  }
  // The runtime opens the same database itself (PGlite allows one instance).
  await t.releaseStore();
  const start = () =>
    startRuntime({
      home: t.home,
      pipelinesDir,
      databaseUrl: t.databaseUrl,
      scheduler: true,
      workers: options.workers ?? 2,
      clock: options.clock,
      housekeepingMs: options.housekeepingMs,
      hooks: options.hooks,
      // UPDRAFT_TEST_LOG=<file> keeps the component logs of a failing test for reading.
      log: process.env.UPDRAFT_TEST_LOG
        ? createLogger({ level: 'debug', file: process.env.UPDRAFT_TEST_LOG })
        : undefined,
    });
  let runtime = await start();
  async function waitFor<T>(
    check: () => Promise<T | undefined>,
    what: string,
    timeoutMs = 20_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Promise.race([runtime.scheduler?.nextTick(), new Promise((r) => setTimeout(r, 50))]);
    }
  }
  return {
    get runtime() {
      return runtime;
    },
    async restart() {
      await runtime.stop();
      runtime = await start();
    },
    home: t.home,
    databaseUrl: t.databaseUrl,
    pipelinesDir,
    waitFor,
    waitForRun: (dagId, runId, timeoutMs) =>
      waitFor(
        async () => {
          const run = await runtime.ops.getRun(dagId, runId);
          return run.state === 'success' || run.state === 'failed' ? run : undefined;
        },
        `run ${dagId}/${runId} to finish`,
        timeoutMs,
      ),
    async close() {
      await runtime.stop();
      await t.close();
    },
  };
}
