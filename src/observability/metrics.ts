/**
 * Prometheus metrics of a scheduler process (prom-client), served at `/metrics`.
 * Names follow Prometheus conventions: `updraft_` prefix, base units (`_seconds`),
 * `_total` for counters, labels for dimensions. Event metrics come from the scheduler's
 * committed events; state metrics (task instances by state, pools, import errors,
 * dataset versions) are read from the store when scraped, so they are right after a
 * restart and across schedulers.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `updraft_scheduler_loop_duration_seconds` | histogram | |
 * | `updraft_scheduler_heartbeat_timestamp_seconds` | gauge | |
 * | `updraft_task_instances` (of unfinished runs) | gauge | `state` |
 * | `updraft_executor_slots`, `updraft_executor_attempts_in_flight` | gauge | `executor` |
 * | `updraft_task_duration_seconds` (attempt run time) | histogram | `dag_id`, `task_id`, `state` |
 * | `updraft_task_handoff_latency_seconds` (queued → running in a worker) | histogram | |
 * | `updraft_task_retries_total` | counter | `dag_id`, `task_id` |
 * | `updraft_task_attempts_finished_total` | counter | `dag_id`, `state` |
 * | `updraft_dag_run_duration_seconds` | histogram | `dag_id`, `state` |
 * | `updraft_deadline_misses_total` | counter | `dag_id`, `scope` (`run`/`task`) |
 * | `updraft_import_errors` | gauge | |
 * | `updraft_pool_slots`, `updraft_pool_used_slots` | gauge | `pool` |
 * | `updraft_dataset_versions_written_total` | counter | `dataset` |
 * | `updraft_quality_checks_failed_total` (results `warn` or `error`) | counter | `dataset`, `severity` |
 * | `updraft_notifications_total` | counter | `notifier`, `outcome` |
 *
 * plus prom-client's default `process_*` and `nodejs_*` metrics.
 */
import { sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { dataDb } from '../data/schema.ts';
import type { DeliveryOutcome } from '../notify/alert-dispatcher.ts';
import { qualityDb } from '../quality/quality-store.ts';
import type { SchedulerEvent } from '../scheduler/scheduler-events.ts';
import type { Store } from '../store/store.ts';

/** What the process can tell about its scheduler and executor, read at scrape time. */
export interface LiveStatus {
  /** Last completed scheduler tick (ms since epoch), or null. */
  lastTickAt: number | null;
  executor: { name: string; slots: number; inFlight: number } | null;
}

const DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 10800];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LOOP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class UpdraftMetrics {
  readonly registry = new Registry();
  private readonly loop: Histogram;
  private readonly taskDuration: Histogram<'dag_id' | 'task_id' | 'state'>;
  private readonly handoff: Histogram;
  private readonly retries: Counter<'dag_id' | 'task_id'>;
  private readonly attempts: Counter<'dag_id' | 'state'>;
  private readonly runDuration: Histogram<'dag_id' | 'state'>;
  private readonly deadlineMisses: Counter<'dag_id' | 'scope'>;
  private readonly notifications: Counter<'notifier' | 'outcome'>;
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly store: Store,
    live: () => LiveStatus,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges `_total`, which Prometheus reserves for counters
    // (`promtool check metrics` refuses them); the counts are not worth a lint failure.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }
    this.loop = new Histogram({
      name: 'updraft_scheduler_loop_duration_seconds',
      help: 'Duration of one scheduler loop pass (tick), from its start to the commit.',
      buckets: LOOP_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'updraft_scheduler_heartbeat_timestamp_seconds',
      help: 'When the scheduler last completed a loop pass (Unix time); 0 before the first.',
      registers,
      collect() {
        this.set((live().lastTickAt ?? 0) / 1000);
      },
    });
    const executorLabels = ['executor'] as const;
    new Gauge({
      name: 'updraft_executor_slots',
      help: 'Attempts the executor can run at once.',
      labelNames: executorLabels,
      registers,
      collect() {
        const e = live().executor;
        this.reset();
        if (e) this.set({ executor: e.name }, e.slots);
      },
    });
    new Gauge({
      name: 'updraft_executor_attempts_in_flight',
      help: 'Attempts submitted to the executor and not finished (waiting or running).',
      labelNames: executorLabels,
      registers,
      collect() {
        const e = live().executor;
        this.reset();
        if (e) this.set({ executor: e.name }, e.inFlight);
      },
    });
    this.taskDuration = new Histogram({
      name: 'updraft_task_duration_seconds',
      help: 'Run time of finished task attempts, from start in a worker to the end.',
      labelNames: ['dag_id', 'task_id', 'state'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.handoff = new Histogram({
      name: 'updraft_task_handoff_latency_seconds',
      help: 'Time from an attempt being queued to it running in a worker.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'updraft_task_retries_total',
      help: 'Attempts that failed and left their task up for retry.',
      labelNames: ['dag_id', 'task_id'],
      registers,
    });
    this.attempts = new Counter({
      name: 'updraft_task_attempts_finished_total',
      help: 'Finished attempts by the state they left their task instance in.',
      labelNames: ['dag_id', 'state'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'updraft_dag_run_duration_seconds',
      help: 'Duration of finished DAG runs, from start to end, by outcome.',
      labelNames: ['dag_id', 'state'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.deadlineMisses = new Counter({
      name: 'updraft_deadline_misses_total',
      help: 'Deadlines (SLAs) of runs and tasks that passed with the work unfinished.',
      labelNames: ['dag_id', 'scope'],
      registers,
    });
    this.notifications = new Counter({
      name: 'updraft_notifications_total',
      help: 'Alerts per target: sent, failed after all tries, or grouped into another.',
      labelNames: ['notifier', 'outcome'],
      registers,
    });
    this.storeGauges(registers);
  }

  /** The scheduler listener (quick: histogram updates; run durations are read in the background). */
  readonly onSchedulerEvent = (event: SchedulerEvent): void => {
    switch (event.type) {
      case 'tick':
        this.loop.observe(event.durationMs / 1000);
        break;
      case 'attempt_started':
        this.handoff.observe(Math.max(0, event.at - event.queuedAt) / 1000);
        break;
      case 'attempt_finished': {
        const { dagId, taskId } = event.key;
        this.attempts.inc({ dag_id: dagId, state: event.state });
        if (event.state === 'up_for_retry') this.retries.inc({ dag_id: dagId, task_id: taskId });
        if (event.startedAt !== null) {
          this.taskDuration.observe(
            { dag_id: dagId, task_id: taskId, state: event.state },
            Math.max(0, event.at - event.startedAt) / 1000,
          );
        }
        break;
      }
      case 'run_finished':
        this.observeRun(event).catch(() => {
          // The run's start could not be read (store closing): the duration is skipped.
        });
        break;
      default:
        break;
    }
  };

  /** Counts a deadline miss. */
  deadlineMissed(dagId: string, scope: 'run' | 'task'): void {
    this.deadlineMisses.inc({ dag_id: dagId, scope });
  }

  /** Counts a notification outcome (the dispatcher's `onOutcome`). */
  readonly onNotification = (outcome: DeliveryOutcome): void => {
    this.notifications.inc({
      notifier: outcome.notifierType ?? 'unknown',
      outcome: outcome.outcome,
    });
  };

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private async observeRun(event: Extract<SchedulerEvent, { type: 'run_finished' }>) {
    const run = await this.store.db
      .selectFrom('dag_runs')
      .select(['started_at'])
      .where('dag_id', '=', event.dagId)
      .where('run_id', '=', event.runId)
      .executeTakeFirst();
    if (!run?.started_at) return;
    this.runDuration.observe(
      { dag_id: event.dagId, state: event.state },
      Math.max(0, event.at - new Date(run.started_at).getTime()) / 1000,
    );
  }

  /** Metrics read from the store at each scrape. */
  private storeGauges(registers: Registry[]): void {
    const db = this.store.db;
    new Gauge({
      name: 'updraft_task_instances',
      help: 'Task instances of queued and running DAG runs, by state.',
      labelNames: ['state'],
      registers,
      async collect() {
        const rows = await db
          .selectFrom('task_instances as ti')
          .innerJoin('dag_runs as r', 'r.id', 'ti.run_pk')
          .select(['ti.state', sql<number>`count(*)::int`.as('n')])
          .where('r.state', 'in', ['queued', 'running'])
          .groupBy('ti.state')
          .execute();
        this.reset();
        for (const state of ['scheduled', 'queued', 'running', 'up_for_retry'])
          this.set({ state }, 0);
        for (const r of rows) this.set({ state: r.state }, r.n);
      },
    });
    new Gauge({
      name: 'updraft_import_errors',
      help: 'Pipeline files that failed to load.',
      registers,
      async collect() {
        const row = await db
          .selectFrom('import_errors')
          .select(sql<number>`count(*)::int`.as('n'))
          .executeTakeFirst();
        this.set(row?.n ?? 0);
      },
    });
    new Gauge({
      name: 'updraft_pool_slots',
      help: 'Slots of each pool.',
      labelNames: ['pool'],
      registers,
      async collect() {
        const pools = await db.selectFrom('pools').select(['name', 'slots']).execute();
        this.reset();
        for (const p of pools) this.set({ pool: p.name }, p.slots);
      },
    });
    new Gauge({
      name: 'updraft_pool_used_slots',
      help: 'Pool slots taken by queued and running task instances.',
      labelNames: ['pool'],
      registers,
      async collect() {
        const used = await db
          .selectFrom('pools as p')
          .leftJoin('task_instances as ti', (j) =>
            j.onRef('ti.pool', '=', 'p.name').on('ti.state', 'in', ['queued', 'running']),
          )
          .select(['p.name', sql<number>`coalesce(sum(ti.pool_slots), 0)::int`.as('n')])
          .groupBy('p.name')
          .execute();
        this.reset();
        for (const u of used) this.set({ pool: u.name }, u.n);
      },
    });
    this.datasetCounter(
      'updraft_dataset_versions_written_total',
      'Dataset versions committed.',
      async () =>
        (
          await dataDb(db)
            .selectFrom('dataset_versions')
            .select(['dataset', sql<number>`count(*)::int`.as('n')])
            .groupBy('dataset')
            .execute()
        ).map((r) => ({ labels: { dataset: r.dataset }, total: r.n })),
    );
    this.datasetCounter(
      'updraft_quality_checks_failed_total',
      'Quality check results that failed, by the severity they failed with (warn or error).',
      async () =>
        (
          await qualityDb(db)
            .selectFrom('quality_results')
            .select(['dataset', 'status', sql<number>`count(*)::int`.as('n')])
            .where('status', 'in', ['warn', 'error'])
            .groupBy(['dataset', 'status'])
            .execute()
        ).map((r) => ({ labels: { dataset: r.dataset, severity: r.status }, total: r.n })),
    );
  }

  /**
   * A counter that follows totals counted in the store (rows are kept, so the totals only
   * grow): each scrape adds what was counted since the last.
   */
  private datasetCounter(
    name: string,
    help: string,
    totals: () => Promise<{ labels: Record<string, string>; total: number }[]>,
  ): void {
    const seen = this.seen;
    new Counter({
      name,
      help,
      labelNames: ['dataset', 'severity'],
      registers: [this.registry],
      async collect() {
        for (const { labels, total } of await totals()) {
          const key = `${name}\u0000${JSON.stringify(labels)}`;
          const before = seen.get(key) ?? 0;
          this.inc(labels, Math.max(0, total - before));
          seen.set(key, Math.max(before, total));
        }
      },
    });
  }
}
