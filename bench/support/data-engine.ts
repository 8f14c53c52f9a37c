/**
 * The engine for the data benchmarks: `startRuntime` on a temp home (PGlite store; the
 * runtime wires the data hooks), a pipelines folder, a way to run a
 * DAG to its end, and the peak resident memory of the worker processes (`VmHWM`).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createDatasetOperations,
  type StoreDatasetOperations,
} from '../../src/data/dataset-operations.ts';
import { type Runtime, startRuntime } from '../../src/runtime.ts';
import { tempDir } from './engine.ts';
import type { Scope } from './scope.ts';
import { monotonicMs } from './stats.ts';

export interface DataEngine {
  runtime: Runtime;
  home: string;
  datasets: StoreDatasetOperations;
  /** Triggers `dagId` and waits for the run to succeed; returns the wall time in ms. */
  runDag(dagId: string, runId: string, timeoutMs?: number): Promise<number>;
}

/**
 * Starts the engine with `files` as pipelines; stopped when `scope` closes. DAGs start
 * paused, so the runs measured are the ones `runDag` triggers, not scheduled runs of
 * the same DAGs competing with them.
 */
export async function startDataEngine(
  scope: Scope,
  files: Record<string, string>,
  workers = 1,
): Promise<DataEngine> {
  const home = tempDir(scope, 'data');
  const pipelinesDir = path.join(home, 'pipelines');
  mkdirSync(pipelinesDir);
  for (const [name, source] of Object.entries(files))
    writeFileSync(path.join(pipelinesDir, name), source);
  const runtime = await startRuntime({
    home,
    pipelinesDir,
    scheduler: true,
    workers,
    pausedOnCreation: true,
  });
  scope.defer('stop the runtime', () => runtime.stop());
  const datasets = createDatasetOperations(runtime.store, home);
  async function runDag(dagId: string, runId: string, timeoutMs = 30 * 60_000): Promise<number> {
    const t0 = monotonicMs();
    await runtime.ops.triggerRun(dagId, { runId });
    const deadline = Date.now() + timeoutMs;
    const scheduler = runtime.scheduler;
    let lastQuery = 0;
    for (;;) {
      // Query the store only when nothing is in flight, or every 2 s: polling PGlite
      // costs CPU in this process that the worker would otherwise get.
      const idle = scheduler === null || scheduler.getStatus().inFlight === 0;
      if (idle || Date.now() - lastQuery > 2000) {
        lastQuery = Date.now();
        const run = await runtime.ops.getRun(dagId, runId);
        if (run.state === 'success') return monotonicMs() - t0;
        if (run.state === 'failed') {
          const failed = run.tasks.find((t) => t.state === 'failed');
          throw new Error(
            `run ${dagId}/${runId} failed (task ${failed?.taskId ?? '?'}); see ${home}/logs`,
          );
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`run ${dagId}/${runId} did not finish in ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { runtime, home, datasets, runDag };
}

/** Highest `VmHWM` (peak resident set) among the child processes of this process, in bytes. */
export function peakChildRss(): number {
  let peak = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
      peak = Math.max(peak, Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024);
    } catch {
      // the process ended meanwhile
    }
  }
  return peak;
}

/** `n` as `1,234,567`. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes as MiB. */
export function mib(bytes: number): string {
  return `${count(bytes / 1024 / 1024)} MiB`;
}
