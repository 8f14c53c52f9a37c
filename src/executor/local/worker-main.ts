/**
 * Entry point of a `LocalExecutor` worker process: runs one attempt at a time, as told
 * by its parent over IPC (see `protocol.ts`). It exits when the parent disconnects or
 * goes away, killing the process groups its shell commands started, so no orphan
 * survives a killed scheduler.
 */
import { killTrackedProcessGroups, observeProcessGroups } from '../../operators/process-groups.ts';
import { importedPipelineVersions } from '../../operators/ts-operator.ts';
import type { AttemptRequest } from '../executor.ts';
import { AttemptAbort, runAttempt, toAttemptError } from '../task-runner.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './protocol.ts';

if (process.send === undefined) {
  process.stderr.write('worker-main is started by LocalExecutor, with an IPC channel\n');
  process.exit(2);
}

const settings = JSON.parse(process.argv[2] ?? '{}') as WorkerSettings;
let current: AbortController | undefined;

function send(message: FromWorker, then?: () => void): void {
  if (!process.connected) {
    then?.();
    return;
  }
  // A failed send means the parent is gone; 'disconnect' ends this process.
  process.send?.(message, undefined, undefined, () => then?.());
}

async function run(request: AttemptRequest): Promise<void> {
  const controller = new AbortController();
  current = controller;
  const heartbeat = setInterval(() => send({ type: 'heartbeat' }), settings.heartbeatIntervalMs);
  heartbeat.unref();
  const outcome = await runAttempt(request, {
    signal: controller.signal,
    resultLimitBytes: settings.resultLimitBytes,
    abortGraceMs: settings.abortGraceMs,
    captureOutput: true,
  });
  clearInterval(heartbeat);
  current = undefined;
  send({ type: 'finished', outcome, importedPipelineVersions: importedPipelineVersions() });
}

function fatal(error: unknown): void {
  killTrackedProcessGroups('SIGKILL');
  send({ type: 'fatal', error: toAttemptError(error) }, () => process.exit(70));
}

observeProcessGroups((pgid, alive) => send({ type: 'process_group', pgid, alive }));

process.on('message', (message: ToWorker) => {
  if (message.type === 'run') {
    run(message.request).catch(fatal);
  } else if (message.type === 'abort') {
    current?.abort(new AttemptAbort(message.reason, message.message));
  }
});
process.on('disconnect', () => {
  killTrackedProcessGroups('SIGKILL');
  // Not process.exit(): its teardown waits for native threads, and a DuckDB thread
  // reading a named pipe this process also holds open never returns — an orphaned
  // worker of a killed standalone (mid-extract) stayed alive, holding its output pipes.
  process.kill(process.pid, 'SIGKILL');
});
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

send({ type: 'ready' });
