/**
 * Quarantine replay (ADR 17, `updraft quality replay`): takes the rows a quality task
 * quarantined (`quarantine: true`: they left the flow), optionally corrects them with
 * DuckDB SQL, checks them again with the task's row-level checks against the clean rows
 * they would join, and commits, in one transaction:
 *
 * - a new version of the clean output: the clean version the rows were held back from
 *   (or, with `ontoLatest`, the output's latest) plus the rows that pass now;
 * - a new version of the quarantine dataset with every other row of the replayed version
 *   (still failing, with their new `_check_id` and `_reason`; or not selected by
 *   `checks`), when there are any;
 * - the replay record (`quality_replays`), which makes the replayed version replayable
 *   only once, with the lineage (quarantine version and base → new versions).
 *
 * Every row of the replayed version therefore ends in exactly one of the two new
 * versions. Nothing is written on a dry run, when no row passes, or when anything fails
 * before the commit (a fix with a SQL error, a fix that adds or drops rows, a base that
 * moved meanwhile); the staging folders written by then are removed.
 *
 * Rows: the quarantine holds a row once per check it failed. The rows are taken back as
 * distinct contents, each as many times as the check that quarantined it most often did
 * — which is how many times it was in the checked version: row-level checks flag every
 * copy of a content or none, except `duplicate_rows`, which flags all but one.
 */
import path from 'node:path';
import { sql } from 'kysely';
import { ConflictError, UpdraftError } from '../core/errors.ts';
import { DuckDbSession, readParquetSql, sqlIdentifier, sqlString } from '../data/duckdb-session.ts';
import { registerVersion } from '../data/publish-version.ts';
import { assertDatasetExists, lockDataset } from '../data/registry.ts';
import { dataDb } from '../data/schema.ts';
import { withScratchIn } from '../data/scratch.ts';
import { type WrittenStaging, writeStagedVersion } from '../data/stage-version.ts';
import { type DatasetStorage, NOT_AN_ATTEMPT, type StagingMeta } from '../data/storage.ts';
import { traceStep } from '../observability/tracing.ts';
import { queueDatasetUpdates } from '../scheduler/dataset-triggers.ts';
import type { Db, Store } from '../store/store.ts';
import { type CompiledCheck, DATA_VIEW } from './check-plan.ts';
import { planChecks } from './check-runner.ts';
import { qualityDb } from './quality-store.ts';
import { CHECK_ID_COLUMN, REASON_COLUMN } from './quarantine.ts';
import {
  type ReplaySource,
  replayOf,
  resolveReplaySource,
  type VersionRef,
} from './replay-source.ts';

export type { VersionRef } from './replay-source.ts';

/** What to replay, and how. */
export interface ReplayRequest {
  /** The checked dataset (`orders`). */
  dataset: string;
  /** Its quarantine dataset (default `<dataset>.quarantine`). */
  quarantineDataset?: string;
  /** The quarantine version to replay (default its latest). */
  version?: number;
  /** Only the rows these checks quarantined (default every row); the rest stay quarantined. */
  checks?: string[];
  /**
   * DuckDB SQL run first on the table `quarantined` (the rows, one per row of the checked
   * version, with `_check_ids`): UPDATE statements, or a SELECT whose result replaces it.
   * It may change values only, not add or drop rows or columns.
   */
  fix?: string;
  /** Add the passing rows to the clean output's latest version (default: to the version they were held back from, which must still be its latest). */
  ontoLatest?: boolean;
  /** Work out what would happen, write nothing. */
  dryRun?: boolean;
  /** Who replays (recorded with the replay and the alias moves). */
  actor: string;
  /** DuckDB memory limit (default `1GB`). */
  memoryLimit?: string;
}

/** What a replay did (or, on a dry run, would do). */
export interface ReplayReport {
  /** The replay's id; null on a dry run or when nothing was written. */
  replay: number | null;
  dataset: string;
  quarantine: VersionRef;
  /** The checked version the rows failed in, when known. */
  checked: VersionRef | null;
  /** The clean version the passing rows join. */
  base: VersionRef;
  rows: {
    /** Rows of the quarantine version (a row once per check it failed). */
    quarantined: number;
    /** Rows taken back (distinct rows of the checked version, those `checks` selected). */
    replayed: number;
    /** Replayed rows that pass every row-level check now. */
    released: number;
    /** Rows of the new quarantine version: replayed rows still failing (once per check), and rows not selected. */
    kept: number;
  };
  /** Per row-level check, the replayed rows that still fail it. */
  stillFailing: { checkId: string; rows: number }[];
  /** The new clean version (null: nothing written). */
  output: VersionRef | null;
  /** The new quarantine version with the rows kept (null: none, or nothing written). */
  remainder: VersionRef | null;
  dryRun: boolean;
}

/** The task id a replay writes as: `<task>:replay` (never a real task id). */
export function replayTaskId(taskId: string): string {
  return `${taskId}:replay`;
}

/** Replays a quarantine version; see the module doc. */
export async function replayQuarantine(
  store: Store,
  storage: DatasetStorage,
  request: ReplayRequest,
  now: () => Date = () => new Date(),
): Promise<ReplayReport> {
  await assertDatasetExists(store.db, request.dataset);
  const quarantineDataset = request.quarantineDataset ?? `${request.dataset}.quarantine`;
  const source = await resolveReplaySource(store.db, {
    dataset: request.dataset,
    quarantineDataset,
    ...(request.version === undefined ? {} : { version: request.version }),
    ontoLatest: request.ontoLatest ?? false,
  });
  return traceStep(
    `quality replay ${quarantineDataset} v${source.quarantine.version}`,
    { 'updraft.dataset': quarantineDataset, 'updraft.version': source.quarantine.version },
    () =>
      withScratchIn(storage.root, async (dir) => {
        const session = await DuckDbSession.open({
          memoryLimit: request.memoryLimit ?? '1GB',
          tempDirectory: path.join(dir, 'spill'),
        });
        let staged: WrittenStaging[] = [];
        try {
          const sorted = await sortRows(session, storage, source, request);
          const report = sorted.report;
          if (request.dryRun || report.rows.released === 0) return report;
          staged = await stageOutputs(session, storage, source, sorted);
          session.close();
          return await commitReplay(store, storage, source, request, sorted, staged, now());
        } catch (error) {
          for (const written of staged) await storage.remove(written.staging);
          throw error;
        } finally {
          session.close();
        }
      }),
  );
}

/** The rows sorted into passing and kept, with the report so far. */
interface SortedRows {
  report: ReplayReport;
  columns: { name: string; type: string }[];
  /** Row-level checks that flagged replayed rows (flag column `_updraft_f<i>`). */
  flagged: CompiledCheck[];
}

const ROW = '_updraft_row';
const N = '_updraft_n';
const FAILURES = '_updraft_failures';
const CANDIDATES = 'quarantined';
const ALL = '_updraft_all';
const VERDICT = '_updraft_verdict';
const flagColumn = (i: number) => `_updraft_f${i}`;

/**
 * Reads the quarantined rows, takes back those selected (once per row of the checked
 * version), runs the fix, and flags them with every row-level check of the task over the
 * base rows plus themselves. Leaves `_updraft_verdict` (replayed rows with their flags),
 * `_updraft_unselected` and the base view for the writes.
 */
async function sortRows(
  session: DuckDbSession,
  storage: DatasetStorage,
  source: ReplaySource,
  request: ReplayRequest,
): Promise<SortedRows> {
  const q = source.quarantine;
  const label = `${q.dataset} v${q.version}`;
  const what = `replaying ${label}`;
  await session.run(`set TimeZone = 'UTC'`, what);
  for (const [name, row] of source.pinned) {
    await session.run(
      `create or replace view ${sqlIdentifier(name)} as select * from ${readParquetSql(storage.resolve(row.path))}`,
      `${what}: reading inlet '${name}' v${row.version}`,
    );
  }
  await session.run(
    `create view _updraft_quarantined as select * from ${readParquetSql(storage.resolve(q.path))}`,
    what,
  );
  await session.run(
    `create view _updraft_base as select * from ${readParquetSql(storage.resolve(source.base.path))}`,
    what,
  );
  const described = await describe(session, '_updraft_quarantined', what);
  if (
    !described.some((c) => c.name === CHECK_ID_COLUMN) ||
    !described.some((c) => c.name === REASON_COLUMN)
  ) {
    throw new ConflictError(
      `${label} is not a quarantine: it has no ${CHECK_ID_COLUMN} and ${REASON_COLUMN} columns`,
    );
  }
  const columns = described.filter((c) => c.name !== CHECK_ID_COLUMN && c.name !== REASON_COLUMN);
  const base = await describe(session, '_updraft_base', what);
  const signature = (list: { name: string; type: string }[]) =>
    list.map((c) => `${c.name} ${c.type}`).join(', ');
  if (signature(base) !== signature(columns)) {
    throw new ConflictError(
      `${source.base.dataset} v${source.base.version} has other columns (${signature(base)}) than the rows of ${label} (${signature(columns)}): they cannot be added to it`,
    );
  }
  const cols = columns.map((c) => sqlIdentifier(c.name)).join(', ');
  const ids = (
    await session.rows(
      `select distinct ${CHECK_ID_COLUMN} as id from _updraft_quarantined order by 1`,
      what,
    )
  ).map((r) => String(r.id));
  const unknown = (request.checks ?? []).filter((id) => !ids.includes(id));
  if (unknown.length > 0) {
    throw new ConflictError(
      `no rows of ${label} were quarantined by ${unknown.map((id) => `'${id}'`).join(', ')} (its checks: ${ids.join(', ') || 'none'})`,
    );
  }
  // One row per distinct content: how often each check quarantined it, and the most.
  await session.run(
    `create table _updraft_contents as
     select ${cols}, list({check_id: ${CHECK_ID_COLUMN}, reason: ${REASON_COLUMN}, n: n}) as ${FAILURES}, max(n) as ${N}
     from (select ${cols}, ${CHECK_ID_COLUMN}, ${REASON_COLUMN}, count(*) as n from _updraft_quarantined group by all)
     group by ${cols}`,
    what,
  );
  const selected =
    request.checks === undefined || request.checks.length === 0
      ? 'true'
      : `len(list_filter(${FAILURES}, f -> f.check_id in (${request.checks.map(sqlString).join(', ')}))) > 0`;
  await session.run(
    `create table ${CANDIDATES} as
     select ${cols}, list_sort([f.check_id for f in ${FAILURES}]) as _check_ids, row_number() over () as ${ROW}
     from (select *, unnest(range(${N})) from _updraft_contents where ${selected})`,
    what,
  );
  // Rows not selected go back to the quarantine as they were: once per check, per copy.
  await session.run(
    `create view _updraft_unselected as
     select ${cols}, struct_extract(_updraft_f, 'check_id') as ${CHECK_ID_COLUMN}, struct_extract(_updraft_f, 'reason') as ${REASON_COLUMN}
     from (
       select *, unnest(range(struct_extract(_updraft_f, 'n'))) as _updraft_copy
       from (select ${cols}, unnest(${FAILURES}) as _updraft_f from _updraft_contents where not (${selected}))
     )`,
    what,
  );
  const replayed = await count(session, CANDIDATES, what);
  if (request.fix !== undefined && request.fix.trim() !== '') {
    await runFix(session, request.fix, replayed, what);
  }
  // Replayed rows first: the window order below, not the scan order, decides which of two
  // equal rows is the copy.
  await session.run(
    `create table ${ALL} as
     select ${cols}, ${ROW} from ${CANDIDATES}
     union all select ${cols}, null::bigint as ${ROW} from _updraft_base`,
    what,
  );
  await session.run(`create view ${DATA_VIEW} as select ${cols} from ${ALL}`, what);
  const { plan } = await planChecks({
    session,
    dataset: source.dataset,
    checks: source.config.checks,
    inlets: source.inlets,
    // The published rows come first: of two equal rows, the replayed one is the copy.
    windowOrder: `${ROW} nulls first`,
  });
  const flagged = plan.checks.filter((c) => c.rowPredicate !== null);
  const flags = flagged.map((c, i) => `coalesce(${c.rowPredicate}, false) as ${flagColumn(i)}`);
  await session.run(
    `create table ${VERDICT} as
     select c.*, ${flagged.length === 0 ? 'false as _updraft_none' : flagged.map((_, i) => `v.${flagColumn(i)}`).join(', ')}
     from ${CANDIDATES} c join (
       select * from (select ${ROW}${flags.length === 0 ? '' : `, ${flags.join(', ')}`} from ${ALL}) where ${ROW} is not null
     ) v using (${ROW})`,
    what,
  );
  const anyFlag =
    flagged.length === 0 ? 'false' : flagged.map((_, i) => flagColumn(i)).join(' or ');
  const [tally = {}] = await session.rows(
    `select count(*) filter (where not (${anyFlag})) as released,
       ${flagged.map((_, i) => `count(*) filter (where ${flagColumn(i)}) as c${i}`).join(', ') || '0 as none'}
     from ${VERDICT}`,
    what,
  );
  const stillFailing = flagged
    .map((c, i) => ({ checkId: c.check.id, rows: Number(tally[`c${i}`] ?? 0) }))
    .filter((f) => f.rows > 0);
  const unselected = await count(session, '_updraft_unselected', what);
  const released = Number(tally.released ?? 0);
  return {
    columns,
    flagged,
    report: {
      replay: null,
      dataset: source.dataset,
      quarantine: { dataset: q.dataset, version: q.version },
      checked: source.checked,
      base: { dataset: source.base.dataset, version: source.base.version },
      rows: {
        quarantined: Number(q.row_count),
        replayed,
        released,
        kept: stillFailing.reduce((sum, f) => sum + f.rows, 0) + unselected,
      },
      stillFailing,
      output: null,
      remainder: null,
      dryRun: request.dryRun ?? false,
    },
  };
}

/**
 * Runs the fix on `quarantined`: statements as they are, or a query whose result replaces
 * the table. It must keep every row (`_updraft_row` 1…n, once each) and every column.
 */
async function runFix(
  session: DuckDbSession,
  fix: string,
  rows: number,
  what: string,
): Promise<void> {
  const before = await describe(session, CANDIDATES, what);
  const isQuery = /^\s*(\(\s*)*(select|with|from|values)\b/i.test(fix);
  try {
    await session.run(
      isQuery
        ? `create or replace table ${CANDIDATES} as (${fix.trim().replace(/;\s*$/, '')})`
        : fix,
      'the fix',
    );
  } catch (error) {
    throw new UpdraftError(
      'replay_fix_invalid',
      `--fix failed on table '${CANDIDATES}', nothing was written: ${(error as Error).message.replace(/^the fix: /, '')}`,
      { cause: error },
    );
  }
  const after = await describe(session, CANDIDATES, what);
  const shape = (list: { name: string; type: string }[]) =>
    list.map((c) => `${c.name} ${c.type}`).join(', ');
  if (shape(after) !== shape(before)) {
    throw new UpdraftError(
      'replay_fix_invalid',
      `--fix changed the columns of '${CANDIDATES}' (${shape(before)} → ${shape(after)}): it may change values only; nothing was written`,
    );
  }
  const [check = {}] = await session.rows(
    `select count(*) as n, count(distinct ${ROW}) as d, min(${ROW}) as lo, max(${ROW}) as hi from ${CANDIDATES}`,
    what,
  );
  const ok =
    [check.n, check.d, check.hi].every((v) => Number(v) === rows) &&
    (rows === 0 || Number(check.lo) === 1);
  if (!ok) {
    throw new UpdraftError(
      'replay_fix_invalid',
      `--fix added, removed or renumbered rows of '${CANDIDATES}' (${rows} rows before, ${Number(check.n)} after): it may change values only — a row it could drop would be lost; nothing was written`,
    );
  }
}

/** Writes the new clean version and, when rows stay, the new quarantine version into staging. */
async function stageOutputs(
  session: DuckDbSession,
  storage: DatasetStorage,
  source: ReplaySource,
  sorted: SortedRows,
): Promise<WrittenStaging[]> {
  const cols = sorted.columns.map((c) => sqlIdentifier(c.name)).join(', ');
  const meta = (dataset: string): StagingMeta => ({
    dataset,
    dagId: source.origin.dagId,
    runId: source.origin.runId,
    taskId: replayTaskId(source.origin.taskId),
    mapIndex: -1,
    tryNumber: NOT_AN_ATTEMPT,
    createdAt: new Date().toISOString(),
  });
  const what = `replaying ${source.quarantine.dataset} v${source.quarantine.version}`;
  const anyFlag =
    sorted.flagged.length === 0
      ? 'false'
      : sorted.flagged.map((_, i) => flagColumn(i)).join(' or ');
  const staged: WrittenStaging[] = [];
  staged.push(
    await writeStagedVersion(
      session,
      storage,
      meta(source.base.dataset),
      `select ${cols} from _updraft_base union all select ${cols} from ${VERDICT} where not (${anyFlag})`,
      { what },
    ),
  );
  if (sorted.report.rows.kept > 0) {
    const failing = sorted.flagged.map(
      (c, i) =>
        `select ${cols}, ${sqlString(c.check.id)} as ${CHECK_ID_COLUMN}, ${sqlString(c.reason)} as ${REASON_COLUMN} from ${VERDICT} where ${flagColumn(i)}`,
    );
    staged.push(
      await writeStagedVersion(
        session,
        storage,
        meta(source.quarantine.dataset),
        [...failing, `select * from _updraft_unselected`].join(' union all '),
        { what },
      ),
    );
  }
  const [clean, remainder] = staged;
  const expected = source.base.row_count + sorted.report.rows.released;
  if (clean?.rowCount !== expected || (remainder?.rowCount ?? 0) !== sorted.report.rows.kept) {
    throw new ConflictError(
      `${what}: wrote ${clean?.rowCount} clean rows (expected ${expected}) and ${remainder?.rowCount ?? 0} quarantined (expected ${sorted.report.rows.kept}); nothing was committed`,
    );
  }
  return staged;
}

/** Registers the staged versions, the replay and the lineage in one transaction; files last. */
async function commitReplay(
  store: Store,
  storage: DatasetStorage,
  source: ReplaySource,
  request: ReplayRequest,
  sorted: SortedRows,
  staged: WrittenStaging[],
  now: Date,
): Promise<ReplayReport> {
  const [clean, remainder] = staged as [WrittenStaging, WrittenStaging | undefined];
  const q = source.quarantine;
  const report = sorted.report;
  const datasets = [q.dataset, source.base.dataset].sort();
  const result = await store.transaction(async (tx) => {
    for (const name of datasets) await lockDataset(tx, name);
    // Under the locks: a replay of the same version, or a clean version committed since
    // the rows were sorted, make this one stale.
    const done = await replayOf(tx, q.dataset, q.version);
    if (done !== undefined) {
      throw new ConflictError(
        `${q.dataset} v${q.version} was replayed meanwhile (replay ${done.id} by ${done.replayed_by}); nothing was written`,
      );
    }
    const latest = await dataDb(tx)
      .selectFrom('dataset_versions')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('dataset', '=', source.base.dataset)
      .executeTakeFirst();
    if (latest?.version !== source.base.version) {
      throw new ConflictError(
        `'${source.base.dataset}' got v${latest?.version} while the rows were checked against v${source.base.version}; nothing was written: replay again`,
      );
    }
    const id = await nextReplayId(tx);
    const replay = {
      id,
      from: { dataset: q.dataset, version: q.version },
      checked: source.checked,
      base: report.base,
      fix: request.fix?.trim() || null,
      checks: request.checks?.length ? request.checks : null,
      rows: {
        replayed: report.rows.replayed,
        released: report.rows.released,
        kept: report.rows.kept,
      },
      by: request.actor,
    };
    const producer = {
      runPk: null,
      dagId: source.origin.dagId,
      runId: source.origin.runId,
      taskId: replayTaskId(source.origin.taskId),
      tryNumber: null,
    };
    const common = {
      producer,
      producedBy: { ...producer, mapIndex: -1, tryNumber: NOT_AN_ATTEMPT },
      code: q.manifest.code,
      watermark: null,
      extra: { replay },
      reason: `replay ${id} of ${q.dataset} v${q.version} by ${request.actor}`,
    };
    const dataInterval = q.manifest.dataInterval;
    const output = await registerVersion(
      tx,
      storage,
      {
        ...common,
        staged: { ...clean, dataset: source.base.dataset, dataInterval },
        inputs: [replay.from, report.base],
        lineageReads: [replay.from, report.base],
      },
      now,
    );
    // The clean rows passed the checks the base passed: the gate carries over.
    await dataDb(tx)
      .updateTable('dataset_versions')
      .set({ blocking_checks_passed: source.base.blocking_checks_passed })
      .where('dataset', '=', source.base.dataset)
      .where('version', '=', output.version)
      .execute();
    const kept =
      remainder === undefined
        ? null
        : await registerVersion(
            tx,
            storage,
            {
              ...common,
              staged: { ...remainder, dataset: q.dataset, dataInterval },
              inputs: [replay.from],
              lineageReads: [replay.from],
            },
            now,
          );
    await qualityDb(tx)
      .insertInto('quality_replays')
      .values({
        id,
        dataset: source.dataset,
        quarantine_dataset: q.dataset,
        quarantine_version: q.version,
        checked_version: source.checked?.version ?? null,
        output_dataset: source.base.dataset,
        base_version: source.base.version,
        output_version: output.version,
        remainder_version: kept?.version ?? null,
        source_run_pk: source.origin.runPk,
        source_dag_id: source.origin.dagId,
        source_run_id: source.origin.runId,
        source_task_id: source.origin.taskId,
        source_version_hash: source.origin.versionHash,
        check_ids: replay.checks === null ? null : JSON.stringify(replay.checks),
        fix: replay.fix,
        rows_quarantined: report.rows.quarantined,
        rows_replayed: report.rows.replayed,
        rows_released: report.rows.released,
        rows_kept: report.rows.kept,
        replayed_by: request.actor,
        replayed_at: now,
      })
      .execute();
    const updated = kept === null ? [source.base.dataset] : [source.base.dataset, q.dataset];
    await queueDatasetUpdates(tx, updated, now);
    // Files last: everything above can still roll back.
    await storage.publish(clean.staging, output.path);
    if (remainder !== undefined && kept !== null)
      await storage.publish(remainder.staging, kept.path);
    return { id, output, kept, updated };
  });
  await store.notify({ kind: 'datasets_updated', datasets: result.updated });
  return {
    ...report,
    replay: result.id,
    output: { dataset: source.base.dataset, version: result.output.version },
    remainder: result.kept === null ? null : { dataset: q.dataset, version: result.kept.version },
  };
}

/** The next replay id (taken before the row is inserted: the manifests name it). */
async function nextReplayId(db: Db): Promise<number> {
  const result = await sql<{ id: string | number }>`
    select nextval(pg_get_serial_sequence('quality_replays', 'id')) as id`.execute(db);
  return Number(result.rows[0]?.id);
}

async function describe(
  session: DuckDbSession,
  relation: string,
  what: string,
): Promise<{ name: string; type: string }[]> {
  return (await session.rows(`describe select * from ${relation}`, what)).map((r) => ({
    name: String(r.column_name),
    type: String(r.column_type),
  }));
}

async function count(session: DuckDbSession, relation: string, what: string): Promise<number> {
  const [row] = await session.rows(`select count(*) as n from ${relation}`, what);
  return Number(row?.n ?? 0);
}
