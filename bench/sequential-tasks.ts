/**
 * 40 sequential tasks of ~10 ms compute each (a busy-wait, not a sleep): wall time from
 * the trigger to the run's success, through the whole engine.
 *
 * Baseline (same run): the same 40 × 10 ms busy-waits in this one process — the pure
 * compute time. The difference, divided by 40, is the engine's overhead per task
 * (scheduling, store writes, dispatch to a worker, reporting back).
 *
 *     node --import tsx bench/sequential-tasks.ts
 */
import {
  type Backend,
  ServerUnavailable,
  selectedBackends,
  startEngine,
} from './support/engine.ts';
import { runMain } from './support/main.ts';
import { chainPipeline, handoffs, readChainTimes } from './support/pipelines.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { median, monotonicMs, ms } from './support/stats.ts';

const NAME = '40 sequential tasks';
const DAG_ID = 'sequential_40';
const TASKS = 40;
const COMPUTE_MS = 10;
/** Measured runs per backend (after one warm-up run); the median is reported. */
const RUNS = 5;
const TARGET_MS = 800;

/** Runs the benchmark; returns its figures. */
export async function sequentialTasks(): Promise<Figure[]> {
  const compute = pureCompute();
  progress(NAME, `baseline: ${TASKS} × ${COMPUTE_MS} ms busy-wait in one process: ${ms(compute)}`);
  const baseline = `pure compute ${ms(compute)}`;
  const figures: Figure[] = [];
  for (const backend of selectedBackends()) {
    let runs: RunTimes[];
    try {
      runs = await engineRuns(backend);
    } catch (error) {
      if (!(error instanceof ServerUnavailable)) throw error;
      progress(NAME, `SKIPPED on ${backend}: ${error.message}`);
      figures.push({
        benchmark: NAME,
        metric: `wall time on ${backend}`,
        value: 'skipped (no server)',
        target: '—',
        met: null,
        baseline,
      });
      continue;
    }
    const wall = median(runs.map((r) => r.wall));
    const perTask = (wall - compute) / TASKS;
    const where = `trigger → first task ${ms(median(runs.map((r) => r.toFirst)))}, ${TASKS} tasks ${ms(median(runs.map((r) => r.inTasks)))}, ${TASKS - 1} hand-offs ${ms(median(runs.map((r) => r.handoffs)))}, last task → run success ${ms(median(runs.map((r) => r.toSuccess)))}`;
    progress(
      NAME,
      `${backend}: median ${ms(wall)} (runs: ${runs.map((r) => ms(r.wall)).join(', ')}), overhead ${ms(perTask)} per task`,
    );
    progress(NAME, `${backend}: where the time goes (medians): ${where}`);
    figures.push(
      {
        benchmark: NAME,
        metric: `wall time on ${backend} (median of ${RUNS})`,
        value: ms(wall),
        target: backend === 'pglite' ? `< ${TARGET_MS} ms` : '—',
        met: backend === 'pglite' ? wall < TARGET_MS : null,
        baseline,
      },
      {
        benchmark: NAME,
        metric: `overhead per task on ${backend}`,
        value: ms(perTask),
        target: '—',
        met: null,
        baseline: where,
      },
    );
  }
  return figures;
}

/** The 40 busy-waits, back to back, in this process. */
function pureCompute(): number {
  const t0 = monotonicMs();
  for (let i = 0; i < TASKS; i++) {
    const start = monotonicMs();
    while (monotonicMs() - start < COMPUTE_MS) {
      // busy-wait, as the tasks do
    }
  }
  return monotonicMs() - t0;
}

/** One run, split: the task times come from the tasks themselves (see `chainPipeline`). */
interface RunTimes {
  /** Trigger → run success (the end the scheduler recorded). */
  wall: number;
  /** Trigger → the first task's function starts. */
  toFirst: number;
  /** Sum of the time inside the task functions. */
  inTasks: number;
  /** Sum of the hand-offs between tasks. */
  handoffs: number;
  /** Last task's function ends → the run's recorded end. */
  toSuccess: number;
}

/** Trigger → run success, for `RUNS` runs through the whole engine on `backend`. */
async function engineRuns(backend: Backend): Promise<RunTimes[]> {
  return withScope(async (scope) => {
    progress(NAME, `${backend}: starting the engine`);
    const engine = await startEngine(scope, {
      backend,
      files: { 'sequential.ts': chainPipeline(DAG_ID, TASKS, COMPUTE_MS) },
    });
    const { ops } = engine.runtime;
    const runs: RunTimes[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const runId = run === 0 ? 'warmup' : `run${run}`;
      // Wall-clock ms minus monotonic ms: converts the run's recorded end to task time.
      const offset = Date.now() - monotonicMs();
      const triggeredAt = monotonicMs();
      await ops.triggerRun(DAG_ID, { runId });
      const [done] = await engine.waitForRuns(DAG_ID, run + 1);
      if (done?.state !== 'success' || !done.endedAt) {
        throw new Error(`run ${runId} ended ${done?.state}`);
      }
      // The run's end as the scheduler recorded it: the wait's own polling does not count.
      const endedAt = Date.parse(done.endedAt) - offset;
      const wall = endedAt - triggeredAt;
      if (run === 0) {
        progress(NAME, `${backend}: warm-up run: ${ms(wall)}`);
        continue;
      }
      const times = await readChainTimes(ops, DAG_ID, runId, TASKS);
      runs.push({
        wall,
        toFirst: times[0]!.start - triggeredAt,
        inTasks: times.reduce((sum, t) => sum + (t.end - t.start), 0),
        handoffs: handoffs(times).reduce((a, b) => a + b, 0),
        toSuccess: endedAt - times[times.length - 1]!.end,
      });
      progress(NAME, `${backend}: run ${run}/${RUNS}: ${ms(wall)}`);
    }
    return runs;
  });
}

runMain(import.meta.url, sequentialTasks);
