/**
 * Where a quarantine version came from, for a replay (ADR 17): the quality task that
 * quarantined its rows (its checks, as the DAG version of that run declared them), the
 * checked version, the versions its inlets were pinned to, and the clean-output version
 * the rows were held back from — or, for a version an earlier replay wrote with the rows
 * still failing, the same, carried over from that replay. Every way this can be wrong is
 * refused here, before any row is read, naming what to do instead.
 */
import type { TaskSpec } from '../core/dag-spec.ts';
import { ConflictError, NotFoundError } from '../core/errors.ts';
import type { Manifest } from '../data/manifest.ts';
import { parseRef } from '../data/names.ts';
import { findVersion, latestVersionNumber, resolveRef, type VersionRow } from '../data/registry.ts';
import { dataDb } from '../data/schema.ts';
import { chosenInlet } from '../data/task-inputs.ts';
import { getDagVersion } from '../store/queries/dags.ts';
import type { Db } from '../store/store.ts';
import type { QualityConfig } from './check-spec.ts';
import { qualityDb } from './quality-store.ts';

/** A dataset version by name and number. */
export interface VersionRef {
  dataset: string;
  version: number;
}

/** What a replay of one quarantine version works from. */
export interface ReplaySource {
  /** The checked dataset. */
  dataset: string;
  /** The quarantine version replayed. */
  quarantine: VersionRow & { manifest: Manifest };
  /** The quality task whose quarantine it is, and its run. */
  origin: {
    runPk: number | null;
    dagId: string;
    runId: string;
    taskId: string;
    versionHash: string | null;
  };
  /** That task's config (its checks). */
  config: QualityConfig;
  /** The task's inlets, by reference as written (`orders`, `customers@prod`). */
  inlets: string[];
  /** The checked version, when known. */
  checked: VersionRef | null;
  /** The versions the task's inlets were pinned to (readable ones), by dataset name. */
  pinned: Map<string, VersionRow>;
  /** The clean output (`<dataset>.clean`): the version the released rows join. */
  base: VersionRow;
  /** The clean output's latest version, when it is not `base` (only with `ontoLatest`). */
  movedOn: number | null;
}

/** What to replay: see `ReplayRequest` in `quarantine-replay.ts`. */
export interface SourceRequest {
  dataset: string;
  quarantineDataset: string;
  version?: number;
  ontoLatest: boolean;
}

/** Finds and checks what a replay of `request` works from (read-only). */
export async function resolveReplaySource(db: Db, request: SourceRequest): Promise<ReplaySource> {
  const q = request.quarantineDataset;
  const row = await resolveRef(
    db,
    request.version === undefined
      ? { name: q, alias: 'latest' }
      : { name: q, version: request.version },
  );
  const quarantine = { ...row, manifest: manifestOf(row) };
  const label = `${q} v${row.version}`;
  const done = await replayOf(db, q, row.version);
  if (done !== undefined) {
    throw new ConflictError(
      `${label} was replayed already (replay ${done.id} by ${done.replayed_by} on ${new Date(done.replayed_at).toISOString()}: ` +
        `${done.rows_released} rows into ${done.output_dataset} v${done.output_version}` +
        (done.remainder_version === null
          ? ', none left in quarantine)'
          : `, ${done.rows_kept} kept in ${q} v${done.remainder_version}); replay v${done.remainder_version} for the rows still quarantined`),
    );
  }
  // A version an earlier replay wrote carries that replay's origin.
  const earlier = await qualityDb(db)
    .selectFrom('quality_replays')
    .selectAll()
    .where('quarantine_dataset', '=', q)
    .where('remainder_version', '=', row.version)
    .executeTakeFirst();
  const origin =
    earlier === undefined
      ? {
          runPk: row.run_pk,
          dagId: row.dag_id ?? '',
          runId: row.run_id ?? '',
          taskId: row.task_id ?? '',
          versionHash: quarantine.manifest.code.dagVersionHash,
        }
      : {
          runPk: earlier.source_run_pk,
          dagId: earlier.source_dag_id,
          runId: earlier.source_run_id,
          taskId: earlier.source_task_id,
          versionHash: earlier.source_version_hash,
        };
  const task = await originTask(db, origin, label);
  if (task?.operator !== 'quality') {
    throw new ConflictError(
      `${label} was not written by a quality task (it was written by ${origin.dagId || '?'}/${origin.runId || '?'}/${origin.taskId || '?'}): only the failing rows a quality task quarantined can be replayed`,
    );
  }
  const config = task.config as unknown as QualityConfig;
  const checkedRef = chosenInlet(config.dataset, task.inlets);
  const checkedName = checkedRef === null ? null : parseRef(checkedRef).name;
  const quarantineOfTask = config.quarantineDataset ?? `${checkedName}.quarantine`;
  if (checkedName !== request.dataset) {
    throw new ConflictError(
      `${label} holds failing rows of dataset '${checkedName ?? '?'}' (task ${origin.dagId}.${origin.taskId}), not of '${request.dataset}': run 'updraft quality replay ${checkedName ?? '<dataset>'}${q === `${checkedName}.quarantine` ? '' : ` --from ${q}`}'`,
    );
  }
  if (quarantineOfTask !== q) {
    throw new ConflictError(
      `${label} is not a quarantine: task ${origin.dagId}.${origin.taskId} wrote it, but its failing rows go to '${quarantineOfTask}'${quarantineOfTask === `${request.dataset}.quarantine` ? '' : ` (replay them with --from ${quarantineOfTask})`}`,
    );
  }
  if (config.quarantine !== true) {
    throw new ConflictError(
      `the rows of ${label} never left '${request.dataset}': task ${origin.dagId}.${origin.taskId} checks without 'quarantine: true', so they are still in the version it checked and replaying them would add them twice; fix them at the source and run the pipeline again (or set 'quarantine: true' so failing rows leave the flow)`,
    );
  }
  const output = config.output ?? `${request.dataset}.clean`;
  const pinned = await pinnedInlets(db, origin.runPk, origin.taskId);
  const checkedRow = checkedRef === null ? undefined : pinned.get(checkedName ?? '');
  const checked =
    earlier !== undefined && earlier.checked_version !== null
      ? { dataset: request.dataset, version: earlier.checked_version }
      : checkedRow === undefined
        ? null
        : { dataset: checkedRow.dataset, version: checkedRow.version };
  const heldBackFrom =
    earlier !== undefined
      ? await findVersion(db, output, earlier.output_version)
      : await cleanVersionOf(db, output, row);
  if (heldBackFrom === undefined) {
    throw new ConflictError(
      `no version of '${output}' was published with ${label} (a blocking check failed, so task ${origin.dagId}.${origin.taskId} withheld its clean rows): there is no clean version to add the rows to; fix the data and run the pipeline again`,
    );
  }
  const latest = (await latestVersionNumber(db, output)) ?? heldBackFrom.version;
  if (latest !== heldBackFrom.version && !request.ontoLatest) {
    throw new ConflictError(
      `'${output}' moved on to v${latest} since v${heldBackFrom.version}, the version the rows of ${label} were held back from: adding them to v${heldBackFrom.version} would make a latest version without v${latest}'s rows. ` +
        `Add --onto-latest to add them to v${latest} instead (the row-level checks run again on the combined rows, so a row whose key v${latest} has already stays quarantined)`,
    );
  }
  const base = await resolveRef(db, {
    name: output,
    version: request.ontoLatest ? latest : heldBackFrom.version,
  });
  return {
    dataset: request.dataset,
    quarantine,
    origin,
    config,
    inlets: task.inlets,
    checked,
    pinned,
    base,
    movedOn: latest !== heldBackFrom.version ? latest : null,
  };
}

/** The replay that took up `dataset` v`version`, if any. */
export function replayOf(db: Db, dataset: string, version: number) {
  return qualityDb(db)
    .selectFrom('quality_replays')
    .selectAll()
    .where('quarantine_dataset', '=', dataset)
    .where('quarantine_version', '=', version)
    .executeTakeFirst();
}

function manifestOf(row: VersionRow): Manifest {
  return typeof row.manifest === 'string' ? (JSON.parse(row.manifest) as Manifest) : row.manifest;
}

/** The task spec of the run's DAG version (the run's own when the version is unknown). */
async function originTask(
  db: Db,
  origin: ReplaySource['origin'],
  label: string,
): Promise<TaskSpec | undefined> {
  let hash = origin.versionHash;
  if (hash === null && origin.runPk !== null) {
    const run = await dataDb(db)
      .selectFrom('dag_runs')
      .select('version_hash')
      .where('id', '=', origin.runPk)
      .executeTakeFirst();
    hash = run?.version_hash ?? null;
  }
  if (origin.dagId === '' || hash === null) return undefined;
  const version = await getDagVersion(db, origin.dagId, hash);
  if (version === undefined) {
    throw new NotFoundError(
      `the DAG version that wrote ${label} (${origin.dagId} ${hash}) is not in the store: its checks are unknown, so its rows cannot be checked again`,
    );
  }
  return version.spec.tasks.find((t) => t.taskId === origin.taskId);
}

/** The live versions an attempt's inlets were pinned to, by dataset. */
async function pinnedInlets(
  db: Db,
  runPk: number | null,
  taskId: string,
): Promise<Map<string, VersionRow>> {
  const found = new Map<string, VersionRow>();
  if (runPk === null) return found;
  const pins = await dataDb(db)
    .selectFrom('dataset_run_inputs')
    .select(['dataset', 'version'])
    .where('run_pk', '=', runPk)
    .where('task_id', '=', taskId)
    .execute();
  for (const pin of pins) {
    if (pin.version === null) continue;
    const row = await findVersion(db, pin.dataset, pin.version);
    if (row !== undefined && row.deleted_at === null) found.set(pin.dataset, row);
  }
  return found;
}

/** The version of `output` the attempt that wrote `quarantine` published with it. */
async function cleanVersionOf(
  db: Db,
  output: string,
  quarantine: VersionRow,
): Promise<VersionRow | undefined> {
  if (quarantine.run_pk === null || quarantine.task_id === null) return undefined;
  return dataDb(db)
    .selectFrom('dataset_versions')
    .selectAll()
    .where('dataset', '=', output)
    .where('run_pk', '=', quarantine.run_pk)
    .where('task_id', '=', quarantine.task_id)
    .$if(quarantine.try_number !== null, (qb) =>
      qb.where('try_number', '=', quarantine.try_number as number),
    )
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}
