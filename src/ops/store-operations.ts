/**
 * `Operations` over the metadata store. State changes go through
 * `src/scheduler/transitions.ts` in a transaction, then a store signal wakes the
 * scheduler (in this process, or in another one over LISTEN/NOTIFY on PostgreSQL).
 */

import type { Selectable } from 'kysely';
import { UserAdmin } from '../auth/user-admin.ts';
import type { UserInfo } from '../auth/users.ts';
import type { Clock } from '../core/clock.ts';
import { didYouMean } from '../core/closest-match.ts';
import { ConflictError, NotFoundError, UpdraftError } from '../core/errors.ts';
import { resolveParams } from '../core/params.ts';
import { runIdProblem } from '../core/run-id.ts';
import type { RunState } from '../core/states.ts';
import { checkHealth, type HealthReport, type LiveHealth } from '../observability/health-report.ts';
import {
  buildOperationsReport,
  type OperationsReport,
} from '../observability/operations-report.ts';
import { createTimetable, manualRunInterval } from '../schedule/timetable.ts';
import {
  clearTaskInstances,
  createRun,
  finishRun,
  markTaskInstance,
  type Tx,
} from '../scheduler/transitions.ts';
import { type DagVersion, getDagVersion } from '../store/queries/dags.ts';
import type {
  DagRunsTable,
  DagsTable,
  TaskAttemptsTable,
  TaskInstancesTable,
} from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type {
  AttemptInfo,
  BackfillInfo,
  DagDetail,
  DagSummary,
  ImportErrorInfo,
  Operations,
  PlannedRunInfo,
  PoolInfo,
  Reprocess,
  RunDetail,
  RunSummary,
  TaskInstanceDetail,
  TaskInstanceInfo,
} from './operations.ts';

/** Most runs one backfill may create; a larger range is refused with a clear message. */
export const MAX_BACKFILL_RUNS = 10_000;

export class StoreOperations implements Operations {
  private readonly users: UserAdmin;
  /** What a scheduler process knows of itself, for `health` (set by the runtime). */
  private live: (() => LiveHealth) | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    this.users = new UserAdmin(store, clock);
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  async listDags(filter: { tag?: string; paused?: boolean } = {}): Promise<DagSummary[]> {
    let q = this.store.db.selectFrom('dags').selectAll().orderBy('dag_id');
    if (filter.paused !== undefined) q = q.where('is_paused', '=', filter.paused);
    const rows = (await q.execute()).filter((r) => !filter.tag || r.spec.tags.includes(filter.tag));
    const recent = await this.recentRuns(rows.map((r) => r.dag_id));
    return rows.map((r) => toDagSummary(r, recent.get(r.dag_id) ?? []));
  }

  async getDag(dagId: string): Promise<DagDetail> {
    const row = await this.dagRow(dagId);
    const recent = await this.recentRuns([dagId]);
    return {
      ...toDagSummary(row, recent.get(dagId) ?? []),
      spec: row.spec,
      codeHash: row.code_hash,
      lastParsedAt: iso(row.last_parsed_at),
    };
  }

  async listImportErrors(): Promise<ImportErrorInfo[]> {
    const rows = await this.store.db
      .selectFrom('import_errors')
      .selectAll()
      .orderBy('fileloc')
      .execute();
    return rows.map((r) => ({ fileloc: r.fileloc, issues: r.issues, at: iso(r.created_at) }));
  }

  async setPaused(dagId: string, paused: boolean): Promise<void> {
    await this.dagRow(dagId);
    await this.store.db
      .updateTable('dags')
      .set({ is_paused: paused })
      .where('dag_id', '=', dagId)
      .execute();
    await this.store.notify({ kind: 'dag_changed', dagId });
  }

  async triggerRun(
    dagId: string,
    options: { params?: unknown; runId?: string; logicalDate?: string } = {},
  ): Promise<RunSummary> {
    const dag = await this.dagRow(dagId);
    if (!dag.is_active)
      throw new ConflictError(`dag '${dagId}' is no longer defined by ${dag.fileloc}`);
    const params = resolveParams(dagId, dag.spec.params, options.params ?? {});
    const at = options.logicalDate ? parseDate(options.logicalDate, 'logicalDate') : this.now();
    const runId = options.runId ?? `manual__${at.toISOString()}`;
    const problem = runIdProblem(runId);
    if (problem !== null) throw new UpdraftError('invalid_run_id', problem);
    const version = await this.currentVersion(dag);
    const pk = await this.store.transaction((tx) =>
      createRun(
        tx,
        { version, runId, runType: 'manual', planned: manualRunInterval(at), params },
        this.now(),
      ),
    );
    if (pk === null) throw new ConflictError(`dag '${dagId}' already has a run '${runId}'`);
    await this.store.notify({ kind: 'run_created', dagId });
    return this.getRun(dagId, runId);
  }

  async listRuns(
    dagId: string,
    options: { limit?: number; state?: RunState } = {},
  ): Promise<RunSummary[]> {
    await this.dagRow(dagId);
    let q = this.store.db
      .selectFrom('dag_runs')
      .selectAll()
      .where('dag_id', '=', dagId)
      .orderBy('logical_date', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(options.limit ?? 25, 1), 1000));
    if (options.state) q = q.where('state', '=', options.state);
    return (await q.execute()).map(toRunSummary);
  }

  async getRun(dagId: string, runId: string): Promise<RunDetail> {
    const run = await this.runRow(dagId, runId);
    const tis = await this.store.db
      .selectFrom('task_instances')
      .selectAll()
      .where('run_pk', '=', run.id)
      .orderBy('task_id')
      .orderBy('map_index')
      .execute();
    const version = await getDagVersion(this.store.db, dagId, run.version_hash);
    const order = new Map(version?.spec.tasks.map((t, i) => [t.taskId, i]) ?? []);
    tis.sort((a, b) => (order.get(a.task_id) ?? 1e9) - (order.get(b.task_id) ?? 1e9));
    return { ...toRunSummary(run), tasks: tis.map(toTaskInstanceInfo) };
  }

  async markRun(dagId: string, runId: string, state: 'success' | 'failed'): Promise<RunDetail> {
    const run = await this.runRow(dagId, runId);
    await this.store.transaction((tx) =>
      finishRun(tx, run.id, state, `run marked ${state}`, this.now()),
    );
    await this.store.notify({ kind: 'run_changed', dagId, runId });
    return this.getRun(dagId, runId);
  }

  async getTaskInstance(
    dagId: string,
    runId: string,
    taskId: string,
    mapIndex?: number,
  ): Promise<TaskInstanceDetail> {
    const run = await this.runRow(dagId, runId);
    let q = this.store.db
      .selectFrom('task_instances')
      .selectAll()
      .where('run_pk', '=', run.id)
      .where('task_id', '=', taskId);
    if (mapIndex !== undefined) q = q.where('map_index', '=', mapIndex);
    const ti = await q.orderBy('map_index').executeTakeFirst();
    if (!ti && mapIndex !== undefined) {
      throw new NotFoundError(`task '${taskId}' of run '${runId}' has no map index ${mapIndex}`);
    }
    if (!ti) throw await this.taskNotFound(dagId, runId, run.version_hash, taskId);
    const attempts = await this.store.db
      .selectFrom('task_attempts')
      .selectAll()
      .where('run_pk', '=', run.id)
      .where('task_id', '=', taskId)
      .where('map_index', '=', ti.map_index)
      .orderBy('try_number')
      .execute();
    const result = await this.store.db
      .selectFrom('task_results')
      .select('value')
      .where('run_pk', '=', run.id)
      .where('task_id', '=', taskId)
      .where('map_index', '=', ti.map_index)
      .executeTakeFirst();
    return {
      ...toTaskInstanceInfo(ti),
      dagId,
      runId,
      attempts: attempts.map(toAttemptInfo),
      result: result?.value,
    };
  }

  async clearTasks(
    dagId: string,
    runId: string,
    taskIds: string[],
    options: { downstream?: boolean; onlyFailed?: boolean } = {},
  ): Promise<{ cleared: string[] }> {
    const dag = await this.dagRow(dagId);
    const run = await this.runRow(dagId, runId);
    const current = await this.currentVersion(dag);
    const pinned = await getDagVersion(this.store.db, dagId, run.version_hash);
    const known = new Set(
      [...(pinned?.spec.tasks ?? []), ...current.spec.tasks].map((t) => t.taskId),
    );
    for (const taskId of taskIds) {
      if (!known.has(taskId)) throw await this.taskNotFound(dagId, runId, run.version_hash, taskId);
    }
    let ids = new Set(taskIds);
    if (options.downstream) ids = downstreamClosure(current, ids);
    if (options.onlyFailed) {
      const failed = await this.store.db
        .selectFrom('task_instances')
        .select('task_id')
        .where('run_pk', '=', run.id)
        .where('state', 'in', ['failed', 'upstream_failed'])
        .execute();
      const f = new Set(failed.map((r) => r.task_id));
      ids = new Set([...ids].filter((id) => f.has(id)));
    }
    const asked = [...ids];
    const belowBranches = await this.store.transaction((tx) =>
      clearTaskInstances(tx, run.id, asked, current, this.now()),
    );
    await this.store.notify({ kind: 'run_changed', dagId, runId });
    return { cleared: [...asked, ...belowBranches] };
  }

  async markTask(
    dagId: string,
    runId: string,
    taskId: string,
    state: 'success' | 'failed',
  ): Promise<TaskInstanceDetail> {
    const run = await this.runRow(dagId, runId);
    await this.getTaskInstance(dagId, runId, taskId);
    await this.store.transaction((tx) => markTaskInstance(tx, run.id, taskId, state, this.now()));
    await this.store.notify({ kind: 'run_changed', dagId, runId });
    return this.getTaskInstance(dagId, runId, taskId);
  }

  async taskLogPath(
    dagId: string,
    runId: string,
    taskId: string,
    tryNumber?: number,
    mapIndex?: number,
  ): Promise<string> {
    const ti = await this.getTaskInstance(dagId, runId, taskId, mapIndex);
    if (!ti.attempts.length) {
      throw new NotFoundError(
        `task '${taskId}' of run '${runId}' has not run yet (state ${ti.state})`,
      );
    }
    const attempt =
      tryNumber === undefined
        ? ti.attempts.at(-1)
        : ti.attempts.find((a) => a.tryNumber === tryNumber);
    if (!attempt) {
      throw new NotFoundError(
        `task '${taskId}' of run '${runId}' has no attempt ${tryNumber}; attempts: ${ti.attempts.map((a) => a.tryNumber).join(', ')}`,
      );
    }
    return attempt.logPath;
  }

  async createBackfill(
    dagId: string,
    options: { from: string; to: string; reprocess?: Reprocess; maxActiveRuns?: number },
  ): Promise<BackfillInfo> {
    const dag = await this.dagRow(dagId);
    const from = parseDate(options.from, 'from');
    const to = parseDate(options.to, 'to');
    if (to < from)
      throw new UpdraftError(
        'invalid_range',
        `backfill 'to' (${options.to}) is before 'from' (${options.from})`,
      );
    const reprocess = options.reprocess ?? 'none';
    if (!['none', 'failed', 'all'].includes(reprocess)) {
      throw new UpdraftError(
        'invalid_reprocess',
        `reprocess must be none, failed or all (got '${reprocess}')`,
      );
    }
    const maxActiveRuns = options.maxActiveRuns ?? 10;
    if (!Number.isInteger(maxActiveRuns) || maxActiveRuns < 1) {
      throw new UpdraftError(
        'invalid_max_active_runs',
        `maxActiveRuns must be a positive integer (got ${maxActiveRuns})`,
      );
    }
    const timetable = createTimetable(dag.spec);
    if (!timetable)
      throw new ConflictError(`dag '${dagId}' has no schedule, so it has no intervals to backfill`);
    const planned = timetable.between(from, to, MAX_BACKFILL_RUNS + 1);
    if (planned.length > MAX_BACKFILL_RUNS) {
      throw new UpdraftError(
        'backfill_too_large',
        `backfill of '${dagId}' would create more than ${MAX_BACKFILL_RUNS} runs; split the range`,
      );
    }
    const version = await this.currentVersion(dag);
    const params = resolveParams(dagId, dag.spec.params, {});
    const now = this.now();
    const info = await this.store.transaction(async (tx) => {
      const backfill = await tx
        .insertInto('backfills')
        .values({
          dag_id: dagId,
          from_date: from,
          to_date: to,
          reprocess,
          max_active_runs: maxActiveRuns,
          state: 'running',
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const runIds: string[] = [];
      for (const p of planned) {
        const existing = await tx
          .selectFrom('dag_runs')
          .select(['id', 'run_id', 'state'])
          .where('dag_id', '=', dagId)
          .where('logical_date', '=', p.logicalDate)
          .where('run_type', 'in', ['scheduled', 'backfill'])
          .executeTakeFirst();
        if (!existing) {
          const runId = `backfill__${p.logicalDate.toISOString()}`;
          await createRun(
            tx,
            { version, runId, runType: 'backfill', planned: p, params, backfillId: backfill.id },
            now,
          );
          runIds.push(runId);
          continue;
        }
        const redo =
          (reprocess === 'failed' && existing.state === 'failed') ||
          (reprocess === 'all' && (existing.state === 'failed' || existing.state === 'success'));
        if (!redo) continue;
        await resetRunForBackfill(tx, existing.id, version, backfill.id, now);
        runIds.push(existing.run_id);
      }
      if (!runIds.length) {
        await tx
          .updateTable('backfills')
          .set({ state: 'completed', ended_at: now })
          .where('id', '=', backfill.id)
          .execute();
      }
      return { id: backfill.id, runIds };
    });
    await this.store.notify({ kind: 'run_created', dagId });
    return { ...(await this.getBackfill(info.id)), runIds: info.runIds };
  }

  async listBackfills(dagId?: string): Promise<BackfillInfo[]> {
    let q = this.store.db.selectFrom('backfills').select('id').orderBy('id', 'desc');
    if (dagId) q = q.where('dag_id', '=', dagId);
    const rows = await q.execute();
    return Promise.all(rows.map((r) => this.getBackfill(r.id)));
  }

  async cancelBackfill(id: number): Promise<BackfillInfo> {
    const b = await this.getBackfill(id);
    if (b.state !== 'running') return b;
    const now = this.now();
    await this.store.transaction(async (tx) => {
      await tx
        .updateTable('backfills')
        .set({ state: 'cancelled', ended_at: now })
        .where('id', '=', id)
        .execute();
      // Runs not yet started are dropped from the backfill's queue by ending them.
      const queued = await tx
        .selectFrom('dag_runs')
        .select('id')
        .where('backfill_id', '=', id)
        .where('state', '=', 'queued')
        .execute();
      for (const r of queued) await finishRun(tx, r.id, 'failed', 'backfill cancelled', now);
    });
    await this.store.notify({ kind: 'dag_changed', dagId: b.dagId });
    return this.getBackfill(id);
  }

  async listPools(): Promise<PoolInfo[]> {
    const pools = await this.store.db.selectFrom('pools').selectAll().orderBy('name').execute();
    const used = await this.store.db
      .selectFrom('task_instances')
      .select(['pool', (eb) => eb.fn.sum<number>('pool_slots').as('slots')])
      .where('state', 'in', ['queued', 'running'])
      .groupBy('pool')
      .execute();
    const usedBy = new Map(used.map((u) => [u.pool, Number(u.slots)]));
    return pools.map((p) => ({
      name: p.name,
      slots: p.slots,
      description: p.description,
      occupied: usedBy.get(p.name) ?? 0,
    }));
  }

  async setPool(name: string, slots: number, description?: string): Promise<PoolInfo> {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name)) {
      throw new UpdraftError(
        'invalid_pool',
        `pool name '${name}' is invalid: use 1-100 letters, digits and _ . -`,
      );
    }
    if (!Number.isInteger(slots) || slots < 0) {
      throw new UpdraftError(
        'invalid_pool',
        `pool slots must be a non-negative integer (got ${slots})`,
      );
    }
    await this.store.db
      .insertInto('pools')
      .values({ name, slots, description: description ?? null })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ slots, ...(description === undefined ? {} : { description }) }),
      )
      .execute();
    await this.store.notify({ kind: 'pools_changed' });
    const pool = (await this.listPools()).find((p) => p.name === name);
    if (!pool) throw new NotFoundError(`pool '${name}' vanished while being written`);
    return pool;
  }

  async nextRuns(
    dagId: string,
    options: { after?: string; count?: number } = {},
  ): Promise<PlannedRunInfo[]> {
    const dag = await this.dagRow(dagId);
    const timetable = createTimetable(dag.spec);
    if (!timetable) return [];
    const after = options.after ? parseDate(options.after, 'after') : this.now();
    const count = Math.min(Math.max(options.count ?? 5, 1), 1000);
    return timetable.nextRuns(after, count).map((p) => ({
      dataIntervalStart: p.dataIntervalStart.toISOString(),
      dataIntervalEnd: p.dataIntervalEnd.toISOString(),
      runAfter: p.runAfter.toISOString(),
      logicalDate: p.logicalDate.toISOString(),
    }));
  }

  /** Lets `health` report this process's scheduler and executor (called by the runtime). */
  setLiveHealth(live: () => LiveHealth): void {
    this.live = live;
  }

  health(): Promise<HealthReport> {
    return checkHealth(this.store, this.live?.() ?? null, this.clock.now());
  }

  async operationsReport(
    options: { since?: string; until?: string } = {},
  ): Promise<OperationsReport> {
    const until = options.until ? parseDate(options.until, 'until') : this.now();
    const since = options.since
      ? parseDate(options.since, 'since')
      : new Date(until.getTime() - 7 * 86_400_000);
    return buildOperationsReport(this.store.db, { since, until });
  }

  listUsers(): Promise<UserInfo[]> {
    return this.users.list();
  }

  createUser(username: string, role: string, password: string): Promise<UserInfo> {
    return this.users.create(username, role, password);
  }

  updateUser(username: string, change: { role?: string; password?: string }): Promise<UserInfo> {
    return this.users.update(username, change);
  }

  deleteUser(username: string): Promise<void> {
    return this.users.delete(username);
  }

  // -------------------------------------------------------------------------------------

  private async dagRow(dagId: string): Promise<Selectable<DagsTable>> {
    const row = await this.store.db
      .selectFrom('dags')
      .selectAll()
      .where('dag_id', '=', dagId)
      .executeTakeFirst();
    if (!row) {
      const ids = (await this.store.db.selectFrom('dags').select('dag_id').execute()).map(
        (r) => r.dag_id,
      );
      throw new NotFoundError(`dag '${dagId}' not found${suggest(dagId, ids)}`);
    }
    return row;
  }

  private async runRow(dagId: string, runId: string): Promise<Selectable<DagRunsTable>> {
    await this.dagRow(dagId);
    const row = await this.store.db
      .selectFrom('dag_runs')
      .selectAll()
      .where('dag_id', '=', dagId)
      .where('run_id', '=', runId)
      .executeTakeFirst();
    if (!row)
      throw new NotFoundError(
        `dag '${dagId}' has no run '${runId}' (list them with 'updraft runs list ${dagId}')`,
      );
    return row;
  }

  private async currentVersion(dag: Selectable<DagsTable>): Promise<DagVersion> {
    const v = await getDagVersion(this.store.db, dag.dag_id, dag.version_hash);
    if (!v)
      throw new Error(`DAG version ${dag.dag_id}@${dag.version_hash} is missing from the store`);
    return v;
  }

  private async taskNotFound(dagId: string, runId: string, versionHash: string, taskId: string) {
    const v = await getDagVersion(this.store.db, dagId, versionHash);
    const ids = v?.spec.tasks.map((t) => t.taskId) ?? [];
    return new NotFoundError(
      `run '${runId}' of dag '${dagId}' has no task '${taskId}'${suggest(taskId, ids)}`,
    );
  }

  private async recentRuns(dagIds: string[]) {
    const out = new Map<string, { runId: string; state: RunState }[]>();
    if (!dagIds.length) return out;
    const rows = await this.store.db
      .selectFrom((eb) =>
        eb
          .selectFrom('dag_runs')
          .select([
            'dag_id',
            'run_id',
            'state',
            (e) =>
              e.fn
                .agg<number>('row_number')
                .over((o) =>
                  o.partitionBy('dag_id').orderBy('logical_date', 'desc').orderBy('id', 'desc'),
                )
                .as('n'),
          ])
          .where('dag_id', 'in', dagIds)
          .as('r'),
      )
      .selectAll()
      .where('n', '<=', 5)
      .orderBy('dag_id')
      .orderBy('n')
      .execute();
    for (const r of rows) {
      const list = out.get(r.dag_id) ?? [];
      list.push({ runId: r.run_id, state: r.state });
      out.set(r.dag_id, list);
    }
    return out;
  }

  private async getBackfill(id: number): Promise<BackfillInfo> {
    const b = await this.store.db
      .selectFrom('backfills')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!b) throw new NotFoundError(`backfill ${id} not found`);
    const runs = await this.store.db
      .selectFrom('dag_runs')
      .select('run_id')
      .where('backfill_id', '=', id)
      .orderBy('logical_date')
      .execute();
    return {
      id: b.id,
      dagId: b.dag_id,
      from: iso(b.from_date),
      to: iso(b.to_date),
      reprocess: b.reprocess,
      maxActiveRuns: b.max_active_runs,
      state: b.state,
      runIds: runs.map((r) => r.run_id),
    };
  }
}

/** Puts an existing finished run back in the queue under a backfill (reprocess). */
async function resetRunForBackfill(
  tx: Tx,
  runPk: number,
  version: DagVersion,
  backfillId: number,
  now: Date,
) {
  await clearTaskInstances(
    tx,
    runPk,
    version.spec.tasks.map((t) => t.taskId),
    version,
    now,
  );
  await tx
    .updateTable('dag_runs')
    .set({ backfill_id: backfillId })
    .where('id', '=', runPk)
    .execute();
}

/** The given tasks and everything downstream of them. */
function downstreamClosure(version: DagVersion, start: Set<string>): Set<string> {
  const children = new Map<string, string[]>();
  for (const t of version.spec.tasks) {
    for (const u of t.upstream) children.set(u, [...(children.get(u) ?? []), t.taskId]);
  }
  const out = new Set(start);
  const stack = [...start];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    for (const c of children.get(id) ?? []) {
      if (!out.has(c)) {
        out.add(c);
        stack.push(c);
      }
    }
  }
  return out;
}

function parseDate(text: string, field: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) {
    throw new UpdraftError(
      'invalid_date',
      `${field}: '${text}' is not a date; use ISO 8601, e.g. 2026-01-31 or 2026-01-31T02:00:00Z`,
    );
  }
  return d;
}

function iso(value: Date | string | null): string {
  return (value instanceof Date ? value : new Date(value ?? 0)).toISOString();
}

function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : iso(value);
}

/** " (did you mean 'x'?)" for the closest id, or "". */
function suggest(wanted: string, ids: string[]): string {
  const hint = didYouMean(wanted, ids);
  return hint === undefined ? '' : ` (${hint})`;
}

function toDagSummary(
  row: Selectable<DagsTable>,
  recent: { runId: string; state: RunState }[],
): DagSummary {
  return {
    dagId: row.dag_id,
    description: row.spec.description,
    owner: row.spec.owner,
    tags: row.spec.tags,
    schedule: row.spec.schedule,
    timezone: row.spec.timezone,
    isPaused: row.is_paused,
    isActive: row.is_active,
    fileloc: row.fileloc,
    versionHash: row.version_hash,
    nextRunAfter: isoOrNull(row.next_run_after),
    recentRuns: recent,
  };
}

function toRunSummary(r: Selectable<DagRunsTable>): RunSummary {
  return {
    dagId: r.dag_id,
    runId: r.run_id,
    runType: r.run_type,
    state: r.state,
    logicalDate: iso(r.logical_date),
    dataIntervalStart: iso(r.data_interval_start),
    dataIntervalEnd: iso(r.data_interval_end),
    runAfter: iso(r.run_after),
    queuedAt: isoOrNull(r.queued_at),
    startedAt: isoOrNull(r.started_at),
    endedAt: isoOrNull(r.ended_at),
    params: r.params,
    versionHash: r.version_hash,
  };
}

function toTaskInstanceInfo(t: Selectable<TaskInstancesTable>): TaskInstanceInfo {
  return {
    taskId: t.task_id,
    mapIndex: t.map_index,
    state: t.state,
    tryNumber: t.try_number,
    maxTries: t.max_tries,
    operator: t.operator,
    pool: t.pool,
    priorityWeight: t.priority_weight,
    startedAt: isoOrNull(t.started_at),
    endedAt: isoOrNull(t.ended_at),
    nextRetryAt: isoOrNull(t.next_retry_at),
  };
}

function toAttemptInfo(a: Selectable<TaskAttemptsTable>): AttemptInfo {
  return {
    tryNumber: a.try_number,
    state: a.state,
    exitReason: a.exit_reason,
    error: a.error,
    queuedAt: isoOrNull(a.queued_at),
    startedAt: isoOrNull(a.started_at),
    endedAt: isoOrNull(a.ended_at),
    hostname: a.hostname,
    pid: a.pid,
    logPath: a.log_path,
  };
}
