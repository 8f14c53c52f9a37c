/**
 * Live state changes of runs and task instances, for the server-sent event streams.
 *
 * The scheduler may run in another process (PostgreSQL), so changes are read from the
 * store: while at least one stream listens, the task instances updated since the last
 * look are read every `pollMs` (an index on `updated_at` keeps this cheap), and a store
 * signal (trigger, clear, mark, pause from any process) makes the next look immediate.
 * Rows are re-read over a short window behind the newest timestamp seen, because a
 * transaction may commit after a later one; what was already sent is not sent again.
 */
import { sql } from 'kysely';
import type { RunState, TaskState } from '../core/states.ts';
import type { Store, StoreSignal } from '../store/store.ts';

export type LiveEvent =
  | {
      type: 'task';
      dagId: string;
      runId: string;
      taskId: string;
      state: TaskState;
      tryNumber: number;
    }
  | { type: 'run'; dagId: string; runId: string; state: RunState }
  | { type: 'dag'; dagId: string };

/** How far behind the newest `updated_at` seen each look starts. */
const WINDOW_MS = 10_000;
/** Most task instances read in one look. */
const BATCH = 5000;

export class LiveStates {
  private readonly listeners = new Set<(events: LiveEvent[]) => void>();
  private cursor: Date | null = null;
  private readonly sentTasks = new Map<string, { mark: string; at: number }>();
  private readonly sentRuns = new Map<string, RunState>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private looking: Promise<void> | null = null;
  private again = false;
  private readonly pendingRuns = new Set<string>();
  private readonly pendingDags = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly pollMs = 1000,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Listens to batches of events; returns the function that stops listening. */
  async listen(listener: (events: LiveEvent[]) => void): Promise<() => void> {
    this.listeners.add(listener);
    if (this.listeners.size === 1) await this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private async start(): Promise<void> {
    const row = await sql<{
      at: Date | null;
    }>`select max(updated_at) as at from task_instances`.execute(this.store.db);
    this.cursor = row.rows[0]?.at ? new Date(row.rows[0].at) : new Date(0);
    this.unsubscribe = await this.store.subscribe((signal) => this.onSignal(signal));
    this.timer = setInterval(() => this.look(), this.pollMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.sentTasks.clear();
    this.sentRuns.clear();
  }

  private onSignal(signal: StoreSignal): void {
    if (signal.kind === 'run_changed') this.pendingRuns.add(`${signal.dagId}\n${signal.runId}`);
    if (signal.kind === 'dag_changed' || signal.kind === 'run_created')
      this.pendingDags.add(signal.dagId);
    this.look();
  }

  /** Starts a look, or asks for another one right after the current one. */
  private look(): void {
    if (this.looking) {
      this.again = true;
      return;
    }
    this.looking = this.readChanges()
      .catch(this.onError)
      .finally(() => {
        this.looking = null;
        if (this.again && this.listeners.size > 0) {
          this.again = false;
          this.look();
        }
      });
  }

  private async readChanges(): Promise<void> {
    if (!this.cursor) return;
    const since = new Date(this.cursor.getTime() - WINDOW_MS);
    const rows = await this.store.db
      .selectFrom('task_instances')
      .select(['dag_id', 'run_id', 'task_id', 'map_index', 'state', 'try_number', 'updated_at'])
      .where('updated_at', '>', since)
      .orderBy('updated_at')
      .limit(BATCH)
      .execute();
    const events: LiveEvent[] = [];
    const touchedRuns = new Set(this.pendingRuns);
    this.pendingRuns.clear();
    for (const r of rows) {
      const at = new Date(r.updated_at).getTime();
      if (at > this.cursor.getTime()) this.cursor = new Date(at);
      const key = `${r.dag_id}\n${r.run_id}\n${r.task_id}\n${r.map_index}`;
      const mark = `${r.state}:${r.try_number}:${at}`;
      if (this.sentTasks.get(key)?.mark === mark) continue;
      this.sentTasks.set(key, { mark, at });
      touchedRuns.add(`${r.dag_id}\n${r.run_id}`);
      events.push({
        type: 'task',
        dagId: r.dag_id,
        runId: r.run_id,
        taskId: r.task_id,
        state: r.state,
        tryNumber: r.try_number,
      });
    }
    const oldest = this.cursor.getTime() - WINDOW_MS;
    for (const [key, entry] of this.sentTasks) if (entry.at < oldest) this.sentTasks.delete(key);
    if (touchedRuns.size > 0) {
      const pairs = [...touchedRuns].map((k) => k.split('\n') as [string, string]);
      const runs = await this.store.db
        .selectFrom('dag_runs')
        .select(['dag_id', 'run_id', 'state'])
        .where((eb) =>
          eb.or(pairs.map(([d, r]) => eb.and([eb('dag_id', '=', d), eb('run_id', '=', r)]))),
        )
        .execute();
      for (const run of runs) {
        const key = `${run.dag_id}\n${run.run_id}`;
        if (this.sentRuns.get(key) === run.state) continue;
        this.sentRuns.set(key, run.state);
        if (this.sentRuns.size > 10_000) {
          const first = this.sentRuns.keys().next().value;
          if (first !== undefined) this.sentRuns.delete(first);
        }
        events.push({ type: 'run', dagId: run.dag_id, runId: run.run_id, state: run.state });
      }
    }
    for (const dagId of this.pendingDags) events.push({ type: 'dag', dagId });
    this.pendingDags.clear();
    if (events.length === 0) return;
    for (const listener of this.listeners) listener(events);
  }
}
