/**
 * Hand-off latency: from an upstream task's success to its downstream task running.
 *
 * A chain of no-op `ts` tasks runs through the whole engine (store, scheduler, local
 * executor); each task records when its function started and ended (monotonic clock,
 * shared by all processes), so a hand-off is `next.start − previous.end` — everything
 * between one function returning and the next being called: the worker reporting, the
 * scheduler's transaction, the dispatch, the next worker preparing the attempt.
 *
 * Baseline (same run): the executor alone — the same chain driven by a loop that
 * submits the next attempt when the previous one finishes, and the bare round trip
 * (submit → finished) of a no-op attempt. The difference is the share of store and
 * scheduler.
 *
 *     node --import tsx bench/handoff-latency.ts
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
import {
  asTaskTimes,
  chainPipeline,
  chainTaskId,
  handoffs,
  readChainTimes,
  type TaskTimes,
} from './support/pipelines.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { describeLatency, monotonicMs, ms, type Summary, summarize } from './support/stats.ts';

const NAME = 'hand-off latency';
const DAG_ID = 'handoff_chain';
/** Tasks per chain: 100 hand-offs per run. */
const CHAIN = 101;
/** Measured runs per backend (after one warm-up run): 300 hand-offs. */
const RUNS = 3;
const TARGET_P50_MS = 5;

/** Runs the benchmark; returns its figures. */
export async function handoffLatency(): Promise<Figure[]> {
  const baseline = await executorBaseline();
  const baselineText = `executor alone: hand-off p50 ${ms(baseline.handoff.p50)}, p99 ${ms(baseline.handoff.p99)}; submit→finished p50 ${ms(baseline.roundTrip.p50)}`;
  const figures: Figure[] = [];
  for (const backend of selectedBackends()) {
    let s: Summary;
    try {
      s = await engineHandoffs(backend);
    } catch (error) {
      if (!(error instanceof ServerUnavailable)) throw error;
      progress(NAME, `SKIPPED on ${backend}: ${error.message}`);
      figures.push(skipped(backend, baselineText));
      continue;
    }
    progress(NAME, `${backend}: ${describeLatency(s)}`);
    figures.push(
      {
        benchmark: NAME,
        metric: `p50 on ${backend}`,
        value: ms(s.p50),
        target: backend === 'pglite' ? `< ${TARGET_P50_MS} ms` : '—',
        met: backend === 'pglite' ? s.p50 < TARGET_P50_MS : null,
        baseline: baselineText,
      },
      {
        benchmark: NAME,
        metric: `p90 / p99 on ${backend} (n=${s.count})`,
        value: `${ms(s.p90)} / ${ms(s.p99)}`,
        target: '—',
        met: null,
        baseline: '',
      },
    );
  }
  return figures;
}

function skipped(backend: Backend, baseline: string): Figure {
  return {
    benchmark: NAME,
    metric: `p50 on ${backend}`,
    value: 'skipped (no server)',
    target: '—',
    met: null,
    baseline,
  };
}

/** The executor alone: round trip of a no-op attempt, and the hand-off of a chain. */
async function executorBaseline(): Promise<{ roundTrip: Summary; handoff: Summary }> {
  return withScope(async (scope) => {
    const home = tempDir(scope, 'executor');
    const pipelinesDir = path.join(home, 'pipelines');
    mkdirSync(pipelinesDir);
    writeFileSync(path.join(pipelinesDir, 'chain.ts'), chainPipeline(DAG_ID, CHAIN, 0));
    const executor = await startExecutorOnly(scope, { pipelinesDir, home, dagId: DAG_ID });
    progress(NAME, 'baseline: the executor alone, driven by a loop (no store, no scheduler)');

    // Warm up: every worker imports the pipeline once.
    for (let i = 0; i < 4; i++) await executor.run(executor.request('warmup', chainTaskId(i)));

    const roundTrips: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (let i = 0; i < CHAIN; i++) {
        const request = executor.request(`rt${run}`, chainTaskId(i));
        const t0 = monotonicMs();
        await executor.run(request);
        roundTrips.push(monotonicMs() - t0);
      }
    }
    const gaps: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const times: TaskTimes[] = [];
      for (let i = 0; i < CHAIN; i++) {
        const done = await executor.run(executor.request(`chain${run}`, chainTaskId(i)));
        times.push(asTaskTimes(done.result, chainTaskId(i)));
      }
      gaps.push(...handoffs(times));
    }
    const result = { roundTrip: summarize(roundTrips), handoff: summarize(gaps) };
    progress(NAME, `baseline submit→finished: ${describeLatency(result.roundTrip)}`);
    progress(NAME, `baseline hand-off: ${describeLatency(result.handoff)}`);
    return result;
  });
}

/** Hand-offs of `RUNS` chain runs through the whole engine on `backend`. */
async function engineHandoffs(backend: Backend): Promise<Summary> {
  return withScope(async (scope) => {
    progress(NAME, `${backend}: starting the engine`);
    const engine = await startEngine(scope, {
      backend,
      files: { 'chain.ts': chainPipeline(DAG_ID, CHAIN, 0) },
    });
    const { ops } = engine.runtime;
    const gaps: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const runId = run === 0 ? 'warmup' : `run${run}`;
      await ops.triggerRun(DAG_ID, { runId });
      const [done] = await engine.waitForRuns(DAG_ID, run + 1);
      if (done?.state !== 'success') throw new Error(`run ${runId} ended ${done?.state}`);
      if (run === 0) {
        progress(NAME, `${backend}: warm-up run done`);
        continue;
      }
      gaps.push(...handoffs(await readChainTimes(ops, DAG_ID, runId, CHAIN)));
      progress(NAME, `${backend}: run ${run}/${RUNS} done (${gaps.length} hand-offs)`);
    }
    return summarize(gaps);
  });
}

runMain(import.meta.url, handoffLatency);
