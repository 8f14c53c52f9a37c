/**
 * The data layer's attempt hooks (see `src/scheduler/attempt-hooks.ts`):
 *
 * - `prepareAttempt`, in the enqueue transaction: resolves the task's inlets (`orders`,
 *   `orders@prod`, `orders@v3`) to versions, pinned per run and task in
 *   `dataset_run_inputs` so that a re-run reads the same versions. An inlet that a
 *   direct upstream task wrote (or pinned) in the same run resolves to that very
 *   version, not to whatever the alias points at by then; adds the watermark of
 *   an incremental extract and the URLs of the stored / file connections the task
 *   declares (`connections`) or its config names (`connection`).
 * - `commitEffects`, in the transaction recording the success: publishes each staged
 *   version (version number, manifest, registry row, `latest` alias, lineage, watermark),
 *   moves the aliases `promote` tasks asked for (`pipeline-promotion.ts`), swaps in the
 *   versions `maintain` tasks compacted and applies the retention they asked for
 *   (`pipeline-maintenance.ts`), and only then
 *   renames each staging folder into place. A rolled-back transaction can
 *   leave a renamed folder without a row: the next version with that number replaces
 *   it, and vacuum removes it; readers only ever find versions through the registry.
 */
import { readFile } from 'node:fs/promises';
import type { Json, TaskSpec } from '../core/dag-spec.ts';
import { type DatasetRef, splitInlet } from '../core/dataset-ref.ts';
import { UpdraftError } from '../core/errors.ts';
import type { AttemptEffect } from '../executor/executor.ts';
import type { AttemptHooks, HookTarget, PreparedContext } from '../scheduler/attempt-hooks.ts';
import type { Db } from '../store/store.ts';
import {
  connectionsFilePath,
  readConnectionsFile,
  storedConnectionUrls,
} from './connection-store.ts';
import {
  ALIAS_PROMOTION_EFFECT,
  type AliasPromotion,
  DATASET_RETENTION_EFFECT,
  DATASET_VERSION_EFFECT,
  parseAliasPromotion,
  parseRetentionRequest,
  parseStagedCompaction,
  parseStagedVersion,
  type RetentionRequest,
  type StagedVersion,
  VERSION_COMPACTION_EFFECT,
} from './effects.ts';
import { parseRef } from './names.ts';
import { commitCompaction, commitRetention } from './pipeline-maintenance.ts';
import { commitPromotion } from './pipeline-promotion.ts';
import { registerVersion } from './publish-version.ts';
import { LATEST, resolveRef } from './registry.ts';
import { dataDb } from './schema.ts';
import { SecretBox } from './secret-box.ts';
import {
  type DatasetStorage,
  datasetsRootForHome,
  LocalDatasetStorage,
  type StagingMeta,
} from './storage.ts';
import { type PinnedInput, type PinnedWatermark, WATERMARKS_KEY } from './task-inputs.ts';

/** Operators whose config may name a connection (`connection`) or a watermark. */
const CONNECTION_FIELDS = ['connection'] as const;

export interface DataHooksOptions {
  /** Home folder: dataset storage in `<home>/datasets`, connections file. */
  home: string;
  /** Dataset storage (default: local, under `<home>/datasets`). */
  storage?: DatasetStorage;
  /** Encryption keys for stored connections (default: from the environment). */
  secrets?: SecretBox;
  /** Connections file (default `UPDRAFT_CONNECTIONS_FILE` or `<home>/connections.yaml`). */
  connectionsFile?: string;
  /** Clock for timestamps (default `Date`). */
  now?: () => Date;
}

/** The data layer's `AttemptHooks`; wire it into the runtime. */
export function createDataHooks(options: DataHooksOptions): AttemptHooks {
  const storage = options.storage ?? new LocalDatasetStorage(datasetsRootForHome(options.home));
  const connectionsFile = options.connectionsFile ?? connectionsFilePath(options.home);
  const now = options.now ?? (() => new Date());
  let secrets = options.secrets;
  const box = () => {
    secrets ??= SecretBox.fromEnv();
    return secrets;
  };
  return {
    needsPreparation: (task) =>
      task.inlets.length > 0 ||
      connectionNames(task).length > 0 ||
      incrementalDataset(task) !== null,
    prepareAttempt: (db, target) => prepare(db, target, box, connectionsFile, now()),
    commitEffects: (db, target, effects) => commit(db, target, effects, storage, now()),
  };
}

/** The connections a task declares (`connections`) and those its config names. */
function connectionNames(task: TaskSpec): string[] {
  // Specs stored before `connections` existed lack it.
  const names: string[] = [...(task.connections ?? [])];
  for (const field of CONNECTION_FIELDS) {
    const value = task.config[field];
    // A templated name is resolved in the worker from the environment only.
    if (typeof value === 'string' && value !== '' && !value.includes('{{')) names.push(value);
  }
  return [...new Set(names)];
}

/** The dataset of an incremental extract (whose watermark the worker needs), or null. */
function incrementalDataset(task: TaskSpec): string | null {
  const { incremental, dataset } = task.config;
  return task.operator === 'extract' &&
    incremental !== null &&
    typeof incremental === 'object' &&
    typeof dataset === 'string'
    ? dataset
    : null;
}

async function prepare(
  db: Db,
  target: HookTarget,
  box: () => SecretBox,
  connectionsFile: string,
  now: Date,
): Promise<PreparedContext> {
  const inputs: { [name: string]: Json } = {};
  for (const ref of target.task.inlets) {
    const pinned = await pinInput(db, target, ref, now);
    inputs[ref] = pinned as unknown as Json;
  }
  const incremental = incrementalDataset(target.task);
  if (incremental !== null) {
    const watermark = await dataDb(db)
      .selectFrom('dataset_watermarks')
      .select(['column_name', 'value'])
      .where('dag_id', '=', target.dagId)
      .where('task_id', '=', target.task.taskId)
      .where('dataset', '=', incremental)
      .executeTakeFirst();
    const value: PinnedWatermark | null =
      watermark === undefined ? null : { column: watermark.column_name, value: watermark.value };
    inputs[WATERMARKS_KEY] = { [incremental]: value as unknown as Json };
  }
  const names = connectionNames(target.task);
  const connections: { [name: string]: string } = {};
  if (names.length > 0) {
    const file = readConnectionsFile(connectionsFile);
    for (const name of names) {
      const entry = file.get(name);
      if (entry !== undefined) connections[name] = entry.url;
    }
    Object.assign(connections, await storedConnectionUrls(db, box(), names));
  }
  return {
    ...(Object.keys(inputs).length > 0 ? { inputs } : {}),
    ...(Object.keys(connections).length > 0 ? { connections } : {}),
  };
}

/**
 * The version inlet `ref` resolves to for this run and task: the pinned one when the run
 * has pinned it already (re-runs read the same data); else the one the run already
 * settled on upstream (`versionOfRun`); else resolved now. Pinned either way. An optional
 * inlet (`name?`) whose alias points nowhere yet (the dataset has no version) resolves to
 * null, pinned as a row without a version, so a re-run sees it absent too.
 */
async function pinInput(
  db: Db,
  target: HookTarget,
  ref: string,
  now: Date,
): Promise<PinnedInput | null> {
  const data = dataDb(db);
  const inlet = splitInlet(ref);
  const parsed = parseRef(inlet.ref);
  const pinned = await data
    .selectFrom('dataset_run_inputs')
    .select(['dataset', 'version'])
    .where('run_pk', '=', target.runPk)
    .where('task_id', '=', target.task.taskId)
    .where('ref', '=', ref)
    .executeTakeFirst();
  if (pinned !== undefined && pinned.version === null && inlet.optional) return null;
  const version =
    pinned === undefined ? await versionOfRun(db, target, parsed) : (pinned.version ?? null);
  if (pinned === undefined && version === null && inlet.optional && parsed.alias !== undefined) {
    const alias = await data
      .selectFrom('dataset_aliases')
      .select('version')
      .where('dataset', '=', parsed.name)
      .where('alias', '=', parsed.alias)
      .executeTakeFirst();
    if (alias === undefined) {
      await pin(db, target, ref, { dataset: parsed.name, version: null }, now);
      return null;
    }
  }
  const row = await resolveRef(
    db,
    version !== null ? { name: parsed.name, version } : parsed,
  ).catch((error: Error) => {
    throw new UpdraftError(
      'dataset_input_unavailable',
      `task '${target.task.taskId}' inlet '${ref}': ${error.message}`,
      { cause: error },
    );
  });
  if (pinned === undefined) {
    await pin(db, target, ref, row, now);
    await data
      .insertInto('dataset_lineage')
      .values({
        run_pk: target.runPk,
        dag_id: target.dagId,
        run_id: target.runId,
        task_id: target.task.taskId,
        direction: 'read',
        dataset: row.dataset,
        version: row.version,
        at: now,
      })
      .execute();
  }
  return { dataset: row.dataset, version: row.version, path: row.path, rows: row.row_count };
}

/** Pins `ref` of the task to a version for the run (null: an absent optional inlet). */
async function pin(
  db: Db,
  target: HookTarget,
  ref: string,
  to: { dataset: string; version: number | null },
  now: Date,
): Promise<void> {
  await dataDb(db)
    .insertInto('dataset_run_inputs')
    .values({
      run_pk: target.runPk,
      task_id: target.task.taskId,
      ref,
      dataset: to.dataset,
      version: to.version,
      pinned_at: now,
    })
    .onConflict((oc) => oc.columns(['run_pk', 'task_id', 'ref']).doNothing())
    .execute();
}

/**
 * The version of `ref` that the task's direct upstream tasks settled on in this run, so
 * that a task reads what its upstream wrote or checked even when a concurrent run moved
 * the alias meanwhile: for `name` (alias `latest`), the newest version an upstream task
 * wrote in this run; else, or when none did, the version an upstream task pinned for the
 * same reference. Null when no upstream task touched it (or `ref` names a version).
 */
async function versionOfRun(db: Db, target: HookTarget, ref: DatasetRef): Promise<number | null> {
  const upstream = target.task.upstream;
  if (ref.version !== undefined || upstream.length === 0) return null;
  const data = dataDb(db);
  if (ref.alias === LATEST) {
    const written = await data
      .selectFrom('dataset_versions')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('dataset', '=', ref.name)
      .where('run_pk', '=', target.runPk)
      .where('task_id', 'in', upstream)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (written?.version != null) return written.version;
  }
  const read = await data
    .selectFrom('dataset_run_inputs')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('run_pk', '=', target.runPk)
    .where('task_id', 'in', upstream)
    .where('dataset', '=', ref.name)
    .where(
      'ref',
      'in',
      // Optional inlets (`name?`) of upstream tasks count as well.
      (ref.alias === LATEST
        ? [ref.name, `${ref.name}@${LATEST}`]
        : [`${ref.name}@${ref.alias}`]
      ).flatMap((r) => [r, `${r}?`]),
    )
    .executeTakeFirst();
  return read?.version ?? null;
}

async function commit(
  db: Db,
  target: HookTarget,
  effects: readonly AttemptEffect[],
  storage: DatasetStorage,
  now: Date,
): Promise<{ updatedDatasets: string[] }> {
  const renames: { staging: string; target: string }[] = [];
  const updated: string[] = [];
  const promotions: AliasPromotion[] = [];
  const retentions: RetentionRequest[] = [];
  for (const effect of effects) {
    if (effect.kind === ALIAS_PROMOTION_EFFECT) {
      promotions.push(parseAliasPromotion(effect.data));
      continue;
    }
    if (effect.kind === DATASET_RETENTION_EFFECT) {
      retentions.push(parseRetentionRequest(effect.data));
      continue;
    }
    if (effect.kind === VERSION_COMPACTION_EFFECT) {
      const compaction = parseStagedCompaction(effect.data);
      await checkStagingOwner(storage, compaction, target);
      renames.push({ staging: compaction.staging, target: await commitCompaction(db, compaction) });
      continue;
    }
    if (effect.kind !== DATASET_VERSION_EFFECT) {
      throw new UpdraftError('effect_unknown', `unknown effect kind '${effect.kind}'`);
    }
    const staged = parseStagedVersion(effect.data);
    await checkStagingOwner(storage, staged, target);
    const published = await publishVersion(db, target, staged, storage, now);
    renames.push({ staging: staged.staging, target: published.path });
    if (!updated.includes(staged.dataset)) updated.push(staged.dataset);
  }
  for (const promotion of promotions) await commitPromotion(db, target, promotion, now);
  // After the promotions: a version promoted by this attempt is aliased, hence kept.
  for (const retention of retentions) await commitRetention(db, storage, retention, now);
  // Files last: everything above can still roll back.
  for (const rename of renames) await storage.publish(rename.staging, rename.target);
  return { updatedDatasets: updated };
}

/** Refuses a staging folder that another attempt wrote (or that is not one). */
async function checkStagingOwner(
  storage: DatasetStorage,
  staged: Pick<StagedVersion, 'dataset' | 'staging'>,
  target: HookTarget,
): Promise<void> {
  const dir = storage.stagingAt(staged.staging);
  const meta = await readFile(`${dir}.json`, 'utf8')
    .then((text) => JSON.parse(text) as StagingMeta)
    .catch(() => null);
  if (
    meta === null ||
    meta.dataset !== staged.dataset ||
    meta.dagId !== target.dagId ||
    meta.runId !== target.runId ||
    meta.taskId !== target.task.taskId ||
    meta.mapIndex !== target.mapIndex ||
    meta.tryNumber !== target.tryNumber
  ) {
    throw new UpdraftError(
      'dataset_staging_invalid',
      `the staged version of dataset '${staged.dataset}' (${staged.staging}) is missing or was not written by this attempt`,
    );
  }
}

/** Registry rows, manifest and alias for one staged version (files are renamed later). */
async function publishVersion(
  db: Db,
  target: HookTarget,
  staged: StagedVersion,
  storage: DatasetStorage,
  now: Date,
): Promise<{ version: number; path: string }> {
  const data = dataDb(db);
  const run = await data
    .selectFrom('dag_runs')
    .select('version_hash')
    .where('id', '=', target.runPk)
    .executeTakeFirst();
  const pinned = await data
    .selectFrom('dataset_run_inputs')
    .select(['dataset', 'version'])
    .where('run_pk', '=', target.runPk)
    .where('task_id', '=', target.task.taskId)
    .execute();
  const inputs = dedupe([
    ...pinned.flatMap((p) =>
      p.version === null ? [] : [{ dataset: p.dataset, version: p.version }],
    ),
    ...staged.reads,
  ]);
  const { version, path } = await registerVersion(
    db,
    storage,
    {
      staged,
      producer: {
        runPk: target.runPk,
        dagId: target.dagId,
        runId: target.runId,
        taskId: target.task.taskId,
        tryNumber: target.tryNumber,
      },
      producedBy: {
        dagId: target.dagId,
        runId: target.runId,
        taskId: target.task.taskId,
        mapIndex: target.mapIndex,
        tryNumber: target.tryNumber,
      },
      code: {
        gitCommit: staged.gitCommit,
        codeHash: staged.codeHash,
        dagVersionHash: run?.version_hash ?? null,
      },
      inputs,
      // Pinned inlets got their read edge when they were pinned.
      lineageReads: staged.reads.filter(
        (r) => !pinned.some((p) => p.dataset === r.dataset && p.version === r.version),
      ),
      watermark: staged.watermark,
      reason: `committed by ${target.dagId}/${target.runId}/${target.task.taskId} try ${target.tryNumber}`,
    },
    now,
  );
  if (staged.watermark !== null) {
    await data
      .insertInto('dataset_watermarks')
      .values({
        dag_id: target.dagId,
        task_id: target.task.taskId,
        dataset: staged.dataset,
        column_name: staged.watermark.column,
        value: staged.watermark.value,
        version,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['dag_id', 'task_id', 'dataset']).doUpdateSet({
          column_name: staged.watermark?.column ?? '',
          value: staged.watermark?.value ?? '',
          version,
          updated_at: now,
        }),
      )
      .execute();
  }
  return { version, path };
}

function dedupe(
  list: { dataset: string; version: number }[],
): { dataset: string; version: number }[] {
  const seen = new Set<string>();
  return list.filter((item) => {
    const key = `${item.dataset}@${item.version}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
