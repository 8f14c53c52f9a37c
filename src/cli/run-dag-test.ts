/**
 * The terminal side of `updraft dags test`: echoes the attempt logs as they are written
 * (prefixed with the task id), then prints a summary table. With `--json` the logs go to
 * stderr and stdout gets the `DagTestResult`. Ctrl-C cancels the running attempt and
 * ends the run; a second Ctrl-C exits at once.
 */
import { AttemptAbort } from '../executor/task-runner.ts';
import { testDag } from '../testing/dag-test.ts';
import type { CliSettings } from './context.ts';
import { formatLogRecord } from './log-format.ts';
import { humanDuration, painter, paintState, printJson, printTable, say } from './output.ts';

/** Runs the test and prints it; resolves to whether the run succeeded. */
export async function runDagTest(
  settings: CliSettings,
  dagId: string,
  options: { date?: string; params?: unknown; json?: boolean },
): Promise<boolean> {
  const out = options.json ? process.stderr : process.stdout;
  const paint = painter(out);
  const controller = new AbortController();
  const onSigint = () => {
    process.off('SIGINT', onSigint);
    process.once('SIGINT', () => process.exit(130));
    controller.abort(new AttemptAbort('cancelled', 'interrupted (Ctrl-C)'));
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await testDag({
      dagId,
      pipelinesDir: settings.pipelinesDir,
      home: settings.home,
      logicalDate: options.date,
      params: options.params,
      signal: controller.signal,
      onLog: (record) =>
        out.write(`${paint('cyan', record.task_id)} ${formatLogRecord(record, paint)}\n`),
    });
    if (options.json) {
      printJson(result);
    } else {
      say();
      printTable(
        ['task', 'state', 'tries', 'duration', 'error'],
        result.tasks.map((t) => [
          t.mapIndex >= 0 ? `${t.taskId}[${t.mapIndex}]` : t.taskId,
          paintState(paint, t.state),
          String(t.tries),
          t.tries === 0 ? '-' : humanDuration(t.durationMs),
          t.error ?? '',
        ]),
        'the DAG has no tasks',
      );
      say(
        `${paint('bold', result.dagId)} ${paintState(paint, result.state)} in ` +
          `${humanDuration(result.durationMs)} ${paint('dim', `(run ${result.runId}, logs in ${result.logsDir})`)}`,
      );
    }
    return result.state === 'success';
  } finally {
    process.off('SIGINT', onSigint);
  }
}
