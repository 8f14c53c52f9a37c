/**
 * The whole engine (store, loader, local executor, scheduler — `startRuntime`) on a temp
 * home and pipelines folder, on PGlite or on a fresh PostgreSQL database, for the
 * benchmarks. Waiting for runs watches the scheduler's status instead of querying the
 * store on every tick, so the waiting itself does not load the store being measured.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { RunSummary } from '../../src/ops/operations.ts';
import { type Runtime, startRuntime } from '../../src/runtime.ts';
import type { Scope } from './scope.ts';

/** The store backends benchmarked. */
export const BACKENDS = ['pglite', 'postgres'] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * The backends to run: all, or those named in `UPDRAFT_BENCH_BACKENDS`
 * (comma-separated, e.g. `pglite`).
 */
export function selectedBackends(): Backend[] {
  const wanted = process.env.UPDRAFT_BENCH_BACKENDS;
  if (!wanted) return [...BACKENDS];
  const names = wanted.split(',').map((n) => n.trim());
  for (const name of names) {
    if (!(BACKENDS as readonly string[]).includes(name)) {
      throw new Error(
        `UPDRAFT_BENCH_BACKENDS: unknown backend '${name}' (known: ${BACKENDS.join(', ')})`,
      );
    }
  }
  return BACKENDS.filter((b) => names.includes(b));
}

/** Server the PostgreSQL rows use (a database is created on it and dropped after). */
export const ADMIN_URL =
  process.env.UPDRAFT_BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

/** Thrown when the PostgreSQL server is not reachable: the benchmark skips that row. */
export class ServerUnavailable extends Error {
  override readonly name = 'ServerUnavailable';
}

export interface EngineOptions {
  backend: Backend;
  /** Pipeline files written into the pipelines folder (name → source). */
  files: Record<string, string>;
  /** Worker processes (default: the number of cores, as `updraft standalone`). */
  workers?: number;
  /** Attempts queued or running at once (the runtime's default when absent). */
  parallelism?: number;
  /** `local` (default) or `queue` (then the `UPDRAFT_QUEUE_*` variables configure it). */
  executor?: 'local' | 'queue';
}

export interface BenchEngine {
  runtime: Runtime;
  home: string;
  pipelinesDir: string;
  /** Waits until `count` runs of `dagId` have finished; returns them (newest first). */
  waitForRuns(dagId: string, count: number, timeoutMs?: number): Promise<RunSummary[]>;
}

/** A temp folder removed when `scope` closes. */
export function tempDir(scope: Scope, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `updraft-bench-${prefix}-`));
  scope.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let databases = 0;

/**
 * Creates a fresh database `updraft_bench_<pid>_<n>` on the server and drops it when
 * `scope` closes. Throws `ServerUnavailable` when the server cannot be reached.
 */
export async function createBenchDatabase(scope: Scope): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new ServerUnavailable(
      `PostgreSQL is not reachable at ${ADMIN_URL} (${(error as Error).message}); start it or set UPDRAFT_BENCH_DATABASE_URL`,
    );
  }
  const name = `updraft_bench_${process.pid}_${++databases}`;
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  scope.defer(`drop database ${name}`, async () => {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    try {
      await c.query(`drop database if exists ${name} with (force)`);
    } finally {
      await c.end();
    }
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Starts the engine; it is stopped (and its home and database removed) when `scope` closes. */
export async function startEngine(scope: Scope, options: EngineOptions): Promise<BenchEngine> {
  const home = tempDir(scope, options.backend);
  const databaseUrl = options.backend === 'postgres' ? await createBenchDatabase(scope) : undefined;
  const pipelinesDir = path.join(home, 'pipelines');
  mkdirSync(pipelinesDir);
  for (const [name, source] of Object.entries(options.files)) {
    writeFileSync(path.join(pipelinesDir, name), source);
  }
  const runtime = await startRuntime({
    home,
    pipelinesDir,
    databaseUrl,
    scheduler: true,
    workers: options.workers,
    parallelism: options.parallelism,
    executor: options.executor,
  });
  scope.defer('stop the runtime', () => runtime.stop());
  const scheduler = runtime.scheduler;
  if (!scheduler) throw new Error('startRuntime returned no scheduler');

  async function waitForRuns(dagId: string, count: number, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    let seenTicks = -1;
    let lastQuery = 0;
    for (;;) {
      const status = scheduler!.getStatus();
      // Query the store only when the scheduler is idle after a new tick, or every 2 s.
      const idle = status.inFlight === 0 && status.ticks !== seenTicks;
      if (idle || Date.now() - lastQuery > 2000) {
        seenTicks = status.ticks;
        lastQuery = Date.now();
        const runs = await runtime.ops.listRuns(dagId, { limit: Math.max(count, 1) });
        const done = runs.filter((r) => r.state === 'success' || r.state === 'failed');
        if (done.length >= count) return done;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} runs of ${dagId}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  return { runtime, home, pipelinesDir, waitForRuns };
}
