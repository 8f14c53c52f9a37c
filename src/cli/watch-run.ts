/**
 * Following a run from the CLI (`dags trigger --wait`) and printing one
 * (`runs show`, and the end of `--wait`).
 */
import { isFinishedRunState } from '../core/states.ts';
import type { Operations, RunDetail } from '../ops/operations.ts';
import { between, isoTime, painter, paintState, printTable, say } from './output.ts';

/** How often a followed run is read again. */
const POLL_MS = 250;

/**
 * Reads the run until it has finished, printing each task state change as it is seen
 * (unless `quiet`). Resolves to the finished run.
 */
export async function waitForRun(
  ops: Operations,
  dagId: string,
  runId: string,
  options: { quiet?: boolean } = {},
): Promise<RunDetail> {
  const paint = painter();
  const seen = new Map<string, string>();
  for (;;) {
    const run = await ops.getRun(dagId, runId);
    if (!options.quiet) {
      for (const task of run.tasks) {
        const key = `${task.taskId}[${task.mapIndex}]`;
        const shown = `${task.state}#${task.tryNumber}`;
        if (seen.get(key) === shown || task.state === 'none') continue;
        seen.set(key, shown);
        const attempt = task.tryNumber > 1 ? paint('dim', ` (try ${task.tryNumber})`) : '';
        say(
          `${paint('dim', isoTime(Date.now()))} ${task.taskId} ${paintState(paint, task.state)}${attempt}`,
        );
      }
    }
    if (isFinishedRunState(run.state)) return run;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Prints a run's facts and its task instances as a table. */
export function printRunDetail(run: RunDetail): void {
  const paint = painter();
  say(
    `${paint('bold', run.dagId)} run ${paint('bold', run.runId)} ${paintState(paint, run.state)} ` +
      paint(
        'dim',
        `(${run.runType}, logical date ${isoTime(run.logicalDate)}, ` +
          `interval ${isoTime(run.dataIntervalStart)} → ${isoTime(run.dataIntervalEnd)}, ` +
          `took ${between(run.startedAt, run.endedAt)})`,
      ),
  );
  printTable(
    ['task', 'state', 'try', 'started', 'ended', 'duration'],
    run.tasks.map((t) => [
      t.mapIndex >= 0 ? `${t.taskId}[${t.mapIndex}]` : t.taskId,
      paintState(paint, t.state),
      `${t.tryNumber}/${t.maxTries}`,
      isoTime(t.startedAt),
      isoTime(t.endedAt),
      between(t.startedAt, t.endedAt),
    ]),
    'no task instances',
  );
}
