/**
 * `updraft worker`: takes task attempts from queues on Redis and runs them in a warm pool
 * of worker processes, for schedulers started with `UPDRAFT_EXECUTOR=queue` (ADR 9).
 * It never opens the metadata store.
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { settingsOf } from '../context.ts';
import { integerArg } from '../parse.ts';

interface WorkerFlags {
  queues: string;
  concurrency?: number;
  id?: string;
}

export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description(
      'run task attempts from queues on Redis (for a scheduler with UPDRAFT_EXECUTOR=queue); never opens the store',
    )
    .option(
      '--queues <list>',
      'queues to take attempts from, each with an optional limit of attempts at once on this worker: cpu,gpu=1',
      'default',
    )
    .option(
      '--concurrency <n>',
      'worker processes, i.e. attempts at once (default: number of cores)',
      integerArg(),
    )
    .option('--id <name>', 'name of this worker in logs and claims (default host-pid-random)')
    .addHelpText(
      'after',
      `
Environment:
  UPDRAFT_REDIS_URL           Redis of the queues (default redis://127.0.0.1:6379)
  UPDRAFT_QUEUE_PREFIX        prefix of the Redis keys (default updraft), as the scheduler's
  UPDRAFT_QUEUE_HEARTBEAT_MS  heartbeat interval (default 5000); keep it well under the lease

Pipeline files are read from --pipelines (the same relative paths as on the scheduler).
--home holds the bundle cache, spooled logs and <home>/worker.alive (touched every
heartbeat, for container health checks). Ctrl-C / SIGTERM: no new attempts; running ones
get 25 s to finish, then are stopped and reported lost (the scheduler retries them).`,
    )
    .action(async (opts: WorkerFlags, cmd: Command) => {
      const settings = settingsOf(cmd);
      const { parseQueueList, redisSettingsFromEnv, heartbeatFromEnv } = await import(
        '../../executor/queue/queue-settings.ts'
      );
      const { QueueWorker } = await import('../../executor/queue/queue-worker.ts');
      const { redisLabel } = await import('../../executor/queue/redis-connection.ts');
      const { createLogger } = await import('../../observability/logger.ts');
      const { waitForStopSignal } = await import('../serve.ts');
      const { painter, say } = await import('../output.ts');
      const paint = painter();
      const queues = parseQueueList('--queues', opts.queues);
      const { redisUrl, prefix } = redisSettingsFromEnv();
      const log = createLogger();
      const worker = new QueueWorker({
        redisUrl,
        prefix,
        queues,
        concurrency: opts.concurrency ?? os.availableParallelism(),
        home: settings.home,
        pipelinesDir: settings.pipelinesDir,
        aliveFile: path.join(settings.home, 'worker.alive'),
        ...heartbeatFromEnv(),
        ...(opts.id ? { workerId: opts.id } : {}),
        logger: log,
      });
      const stopSignal = waitForStopSignal(paint);
      await worker.start();
      const limits = Object.entries(worker.queueConcurrency)
        .map(([name, limit]) => `${name} (${limit} at once)`)
        .join(', ');
      say(`${paint('bold', 'Updraft worker')} ${worker.workerId} ${paint('green', 'running')}`);
      say(`  ${paint('dim', 'queues'.padEnd(10))} ${limits}`);
      say(`  ${paint('dim', 'redis'.padEnd(10))} ${redisLabel(redisUrl)} (prefix ${prefix})`);
      say(`  ${paint('dim', 'pipelines'.padEnd(10))} ${settings.pipelinesDir}`);
      say(paint('dim', 'Press Ctrl-C to stop.'));
      const signal = await stopSignal;
      say(`${signal}: stopping (running attempts get 25 s to finish)`);
      await worker.stop();
      log.flush();
      say('stopped');
    });
}
