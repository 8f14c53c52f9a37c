/**
 * Picks the executor of a scheduler process: `local` (worker processes on this
 * machine, the default) or `queue` (`updraft worker` processes anywhere, through BullMQ
 * on Redis; configured by the `UPDRAFT_REDIS_URL`, `UPDRAFT_QUEUE_*` variables, see
 * `queue/queue-settings.ts`). The queue executor's modules load only when chosen.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { Executor } from './executor.ts';
import { LocalExecutor } from './local/local-executor.ts';
import {
  type ExecutorKind,
  executorKindFromEnv,
  queueExecutorSettingsFromEnv,
} from './queue/queue-settings.ts';

export interface CreateExecutorOptions {
  /** Worker processes of the local executor. */
  workers: number;
  /** Updraft home (the local workers' bundle cache). */
  home: string;
  /** The scheduler's pipelines folder (queue: files inside it travel as relative paths). */
  pipelinesDir: string;
  clock: Clock;
  logger: Logger;
}

/** A new, unstarted executor of `kind` (default `UPDRAFT_EXECUTOR`, else `local`). */
export async function createExecutor(
  kind: ExecutorKind | undefined,
  options: CreateExecutorOptions,
): Promise<Executor> {
  const chosen = kind ?? executorKindFromEnv();
  if (chosen === 'local') {
    return new LocalExecutor({
      workers: options.workers,
      home: options.home,
      clock: options.clock,
      logger: options.logger,
    });
  }
  const { QueueExecutor } = await import('./queue/queue-executor.ts');
  return new QueueExecutor({
    ...queueExecutorSettingsFromEnv(),
    pipelinesDir: options.pipelinesDir,
    clock: options.clock,
    logger: options.logger,
  });
}
