/**
 * Throughput: independent no-op `ts` tasks per second through scheduler + store +
 * executor, on PGlite and on PostgreSQL, in two shapes:
 * - one run of a DAG with 2,000 independent tasks;
 * - 200 runs of a DAG with 10 independent tasks (2,000 tasks), triggered together.
 * The rate is tasks ÷ (first trigger → last run's recorded end).
 *
 * Baseline (same run): the executor alone, handed the same 2,000 no-op attempts at once
 * (no store, no scheduler) — the ceiling the worker pool sets.
 *
 *     node --import tsx bench/throughput.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type Backend,
  ServerUnavailable,
  selectedBackends,
  startEngine,
  tempDir,
} from './support/engine.ts';
import { startExecutorOnly } from './support/executor-only.ts';
import { runMain } from './support/main.ts';
import { fanPipeline, WARM_UP_DAG } from './support/pipelines.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { monotonicMs, ms } from './support/stats.ts';

const NAME = 'throughput';
const TASKS = 2000;
const SMALL_RUN_TASKS = 10;
const SMALL_RUNS = TASKS / SMALL_RUN_TASKS;
/**
 * Attempts queued or running at once (the scheduler's `parallelism`). The default pool
 * has 128 slots, so more would not run more at once; it would only make the scheduler's
 * candidate query larger (see bench/README.md).
 */
const PARALLELISM = 128;
const TARGET_PER_S = 1000;

interface Shape {
  label: string;
  dagId: string;
  width: number;
  runs: number;
}

const SHAPES: Shape[] = [
  { label: `1 run × ${TASKS} tasks`, dagId: 'wide', width: TASKS, runs: 1 },
  {
    label: `${SMALL_RUNS} runs × ${SMALL_RUN_TASKS} tasks`,
    dagId: 'small',
    width: SMALL_RUN_TASKS,
    runs: SMALL_RUNS,
  },
];

/** Runs the benchmark; returns its figures. */
export async function throughput(): Promise<Figure[]> {
  const executorRate = await executorBaseline();
  const baseline = `executor alone: ${rate(executorRate)}`;
  const figures: Figure[] = [];
  for (const backend of selectedBackends()) {
    for (const shape of SHAPES) {
      const metric = `${shape.label} on ${backend}`;
      let perSecond: number;
      try {
        perSecond = await engineRate(backend, shape);
      } catch (error) {
        if (!(error instanceof ServerUnavailable)) throw error;
        progress(NAME, `SKIPPED on ${backend}: ${error.message}`);
        figures.push({
          benchmark: NAME,
          metric,
          value: 'skipped (no server)',
          target: '—',
          met: null,
          baseline,
        });
        break;
      }
      figures.push({
        benchmark: NAME,
        metric,
        value: rate(perSecond),
        target: `≥ ${TARGET_PER_S.toLocaleString('en-US')}/s`,
        met: perSecond >= TARGET_PER_S,
        baseline,
      });
    }
  }
  return figures;
}

function rate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')} tasks/s`;
}

/** The executor alone: `TASKS` no-op attempts submitted at once. */
async function executorBaseline(): Promise<number> {
  return withScope(async (scope) => {
    const home = tempDir(scope, 'executor');
    const pipelinesDir = path.join(home, 'pipelines');
    mkdirSync(pipelinesDir);
    writeFileSync(path.join(pipelinesDir, 'fan.ts'), fanPipeline('fan', TASKS, 1));
    const executor = await startExecutorOnly(scope, { pipelinesDir, home, dagId: 'fan' });
    progress(NAME, `baseline: the executor alone, ${TASKS} no-op attempts submitted at once`);
    const taskIds = executor.spec.tasks.map((t) => t.taskId);
    // Warm up: every worker imports the pipeline once.
    await Promise.all(
      taskIds.slice(0, 8).map((id) => executor.run(executor.request('warmup', id))),
    );
    const t0 = monotonicMs();
    await Promise.all(taskIds.map((id) => executor.run(executor.request('run', id))));
    const elapsed = monotonicMs() - t0;
    const perSecond = (TASKS / elapsed) * 1000;
    progress(NAME, `baseline: ${TASKS} attempts in ${ms(elapsed)}: ${rate(perSecond)}`);
    return perSecond;
  });
}

/** Tasks per second of `shape` through the whole engine on `backend`. */
async function engineRate(backend: Backend, shape: Shape): Promise<number> {
  return withScope(async (scope) => {
    progress(NAME, `${backend}, ${shape.label}: starting the engine`);
    const engine = await startEngine(scope, {
      backend,
      files: { 'fan.ts': fanPipeline(shape.dagId, shape.width, shape.runs) },
      parallelism: PARALLELISM,
    });
    const { ops } = engine.runtime;
    // Warm up: a small DAG of the same file, so every worker has imported the file.
    await ops.triggerRun(WARM_UP_DAG, { runId: 'warmup' });
    await engine.waitForRuns(WARM_UP_DAG, 1);
    progress(NAME, `${backend}, ${shape.label}: warm-up run done; measuring`);
    const scheduler = engine.runtime.scheduler!;
    const ticks0 = scheduler.getStatus().ticks;

    const offset = Date.now() - monotonicMs();
    const t0 = monotonicMs();
    for (let run = 0; run < shape.runs; run++) {
      await ops.triggerRun(shape.dagId, { runId: `run${run}` });
    }
    const triggered = monotonicMs() - t0;
    const measured = await engine.waitForRuns(shape.dagId, shape.runs, 600_000);
    const ticks = scheduler.getStatus().ticks - ticks0;
    const failed = measured.filter((r) => r.state !== 'success');
    if (failed.length) throw new Error(`${failed.length} runs of ${shape.dagId} failed`);
    const lastEnd = Math.max(...measured.map((r) => Date.parse(r.endedAt ?? '') - offset));
    const elapsed = lastEnd - t0;
    const perSecond = ((shape.runs * shape.width) / elapsed) * 1000;
    progress(
      NAME,
      `${backend}, ${shape.label}: ${shape.runs * shape.width} tasks in ${ms(elapsed)} (triggering took ${ms(triggered)}; ${ticks} scheduler ticks, ${(TASKS / ticks).toFixed(1)} tasks per tick): ${rate(perSecond)}`,
    );
    return perSecond;
  });
}

runMain(import.meta.url, throughput);
