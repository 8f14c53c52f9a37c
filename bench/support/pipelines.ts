/**
 * Pipeline files the benchmarks run, as source text written into a temp pipelines
 * folder. Task timestamps use the monotonic clock (`process.hrtime`), which on Linux is
 * one clock for every process, so times taken in different workers can be subtracted.
 */
import type { Operations } from '../../src/ops/operations.ts';

/** Result of a task of `chainPipeline`: when its function started and ended (monotonic ms). */
export interface TaskTimes {
  start: number;
  end: number;
}

/** Task ids `t000`, `t001`, … so they sort in chain order. */
export function chainTaskId(index: number): string {
  return `t${String(index).padStart(3, '0')}`;
}

/**
 * A DAG `dagId` of `length` `ts` tasks in a chain; each busy-waits `computeMs` (0: no
 * work) and returns its start and end times (`TaskTimes`).
 */
export function chainPipeline(dagId: string, length: number, computeMs: number): string {
  return `import { dag } from 'updraft';

const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;

export default dag({ id: ${JSON.stringify(dagId)}, maxActiveRuns: 1 }, (d) => {
  const tasks = [];
  for (let i = 0; i < ${length}; i++) {
    tasks.push(
      d.task('t' + String(i).padStart(3, '0'), () => {
        const start = now();
        while (now() - start < ${computeMs}) {
          // busy-wait: compute, not sleep
        }
        return { start, end: now() };
      }),
    );
  }
  d.chain(...tasks);
});
`;
}

/** Id of the small DAG `fanPipeline` adds for warming the workers up. */
export const WARM_UP_DAG = 'warm_up';

/**
 * A DAG `dagId` of `width` independent no-op `ts` tasks, and in the same file a DAG
 * `WARM_UP_DAG` of 8 no-op tasks: a run of it makes every worker import the file.
 */
export function fanPipeline(dagId: string, width: number, maxActiveRuns: number): string {
  return `import { dag } from 'updraft';

const fan = (id, width, maxActiveRuns) =>
  dag({ id, maxActiveTasks: width, maxActiveRuns }, (d) => {
    for (let i = 0; i < width; i++) d.task('noop_' + i, () => {});
  });

export const dags = [
  fan(${JSON.stringify(dagId)}, ${width}, ${maxActiveRuns}),
  fan(${JSON.stringify(WARM_UP_DAG)}, 8, 1),
];
`;
}

/** The `TaskTimes` each task of a finished `chainPipeline` run returned, in chain order. */
export async function readChainTimes(
  ops: Operations,
  dagId: string,
  runId: string,
  length: number,
): Promise<TaskTimes[]> {
  const times: TaskTimes[] = [];
  for (let i = 0; i < length; i++) {
    const taskId = chainTaskId(i);
    times.push(asTaskTimes((await ops.getTaskInstance(dagId, runId, taskId)).result, taskId));
  }
  return times;
}

/** Checks that a task result is a `TaskTimes`. */
export function asTaskTimes(result: unknown, taskId: string): TaskTimes {
  const r = result as Partial<TaskTimes> | undefined;
  if (typeof r?.start !== 'number' || typeof r.end !== 'number') {
    throw new Error(`task ${taskId} returned ${JSON.stringify(result)}, not its start and end`);
  }
  return { start: r.start, end: r.end };
}

/** The hand-offs along a chain: `next.start − previous.end`. */
export function handoffs(times: readonly TaskTimes[]): number[] {
  return times.slice(1).map((t, i) => t.start - times[i]!.end);
}
