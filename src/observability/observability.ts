/**
 * The observability of a scheduler process, attached to its scheduler: Prometheus
 * metrics from the committed events and the store, and the root span of each finished
 * run's trace (attempt spans come from the workers, see `tracing.ts`).
 */
import type { Logger } from 'pino';
import type { Executor } from '../executor/executor.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { Store } from '../store/store.ts';
import { registerSecret } from './logger.ts';
import { UpdraftMetrics } from './metrics.ts';
import { initTracing, recordRunSpan, shutdownTracing } from './tracing.ts';

export interface Observability {
  metrics: UpdraftMetrics;
  stop(): Promise<void>;
}

/** Attaches metrics and run spans to `scheduler`; call before `scheduler.start()`. */
export function startObservability(options: {
  store: Store;
  scheduler: Scheduler;
  executor: Executor;
  log: Logger;
}): Observability {
  const { store, scheduler, executor, log } = options;
  // Keys and tokens from the environment never appear in component logs.
  for (const name of [
    'UPDRAFT_SECRET_KEY',
    'UPDRAFT_SECRET_KEY_PREVIOUS',
    'UPDRAFT_METRICS_TOKEN',
  ]) {
    for (const value of (process.env[name] ?? '').split(',')) registerSecret(value.trim());
  }
  const metrics = new UpdraftMetrics(store, () => {
    const capacity = executor.capacity();
    return {
      lastTickAt: scheduler.getStatus().lastTickAt,
      executor: { name: executor.name, slots: capacity.slots, inFlight: capacity.inFlight },
    };
  });
  scheduler.onEvent(metrics.onSchedulerEvent);
  if (initTracing('updraft-scheduler')) {
    log.info({ component: 'tracing' }, 'exporting traces over OTLP/HTTP');
    scheduler.onEvent((event) => {
      if (event.type !== 'run_finished') return;
      store.db
        .selectFrom('dag_runs')
        .select(['started_at'])
        .where('dag_id', '=', event.dagId)
        .where('run_id', '=', event.runId)
        .executeTakeFirst()
        .then((run) => {
          recordRunSpan({
            dagId: event.dagId,
            runId: event.runId,
            state: event.state,
            reason: event.reason,
            startedAt: run?.started_at ? new Date(run.started_at).getTime() : event.at,
            endedAt: event.at,
          });
        })
        .catch((err: unknown) =>
          log.warn(
            { err, dagId: event.dagId, runId: event.runId },
            'could not record the run span',
          ),
        );
    });
  }
  return {
    metrics,
    async stop() {
      await shutdownTracing();
    },
  };
}
