/**
 * The same-run baseline of the engine benchmarks: the `LocalExecutor` alone, driven
 * directly — no store, no scheduler. Attempts are built from the spec the loader
 * produces for the same pipeline file, so the workers do exactly the work they do under
 * the scheduler (import the pipeline once, open the attempt log, call the function).
 */
import path from 'node:path';
import type { DagSpec } from '../../src/core/dag-spec.ts';
import type { AttemptKey, AttemptRequest, ExecutorEvent } from '../../src/executor/executor.ts';
import { attemptKeyString } from '../../src/executor/executor.ts';
import { LocalExecutor } from '../../src/executor/local/local-executor.ts';
import { loadPipelines } from '../../src/loader/load-pipelines.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { Scope } from './scope.ts';

type Finished = Extract<ExecutorEvent, { type: 'finished' }>;

/** A started executor and the DAG of one pipeline file, ready to be submitted by hand. */
export interface ExecutorOnly {
  spec: DagSpec;
  /** An attempt request for task `taskId` in run `runId` (first try, no upstream results). */
  request(runId: string, taskId: string): AttemptRequest;
  /** Submits `request` and resolves with its `finished` event. */
  run(request: AttemptRequest): Promise<Finished>;
}

/**
 * Loads DAG `dagId` from the only file of `pipelinesDir` as the loader would, starts a
 * `LocalExecutor` with `workers` workers (default: the number of cores), and stops it
 * when `scope` closes.
 */
export async function startExecutorOnly(
  scope: Scope,
  options: { pipelinesDir: string; home: string; dagId: string; workers?: number },
): Promise<ExecutorOnly> {
  const [file] = await loadPipelines(options.pipelinesDir, options.home);
  const loaded = file?.dags.find((d) => d.spec.dagId === options.dagId);
  if (!file?.codeHash || !loaded) {
    throw new Error(
      `DAG ${options.dagId} did not load from ${options.pipelinesDir}: ${JSON.stringify(file?.issues ?? [])}`,
    );
  }
  const executor = new LocalExecutor({
    workers: options.workers,
    home: options.home,
    logger: silentLogger(),
  });
  const waiting = new Map<string, (event: Finished) => void>();
  executor.onEvent((event) => {
    if (event.type !== 'finished') return;
    const id = attemptKeyString(event.key);
    waiting.get(id)?.(event);
    waiting.delete(id);
  });
  await executor.start();
  scope.defer('stop the executor', () => executor.stop());

  const { spec } = loaded;
  const tasks = new Map(spec.tasks.map((t) => [t.taskId, t]));
  const logicalDate = new Date().toISOString();
  const codeHash = file.codeHash;
  return {
    spec,
    request(runId, taskId) {
      const task = tasks.get(taskId);
      if (!task) throw new Error(`no task ${taskId} in ${spec.dagId}`);
      const key: AttemptKey = { dagId: spec.dagId, runId, taskId, mapIndex: -1, tryNumber: 1 };
      return {
        key,
        fileloc: file.fileloc,
        codeHash,
        task,
        context: {
          runType: 'manual',
          logicalDate,
          dataIntervalStart: logicalDate,
          dataIntervalEnd: logicalDate,
          params: {},
          maxTries: 1,
          upstreamResults: {},
        },
        logPath: path.join(options.home, 'logs', spec.dagId, runId, `${taskId}.log`),
        datasetsRoot: path.join(options.home, 'datasets'),
      };
    },
    run(request) {
      const done = new Promise<Finished>((resolve) =>
        waiting.set(attemptKeyString(request.key), resolve),
      );
      executor.submit(request);
      return done;
    },
  };
}
