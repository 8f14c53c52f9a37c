/**
 * `DatasetOperations`: what the CLI, the REST API and the UI can ask of the data layer,
 * and `StoreDatasetOperations`, its implementation over the metadata store and the
 * dataset storage. Alias moves (promotion, rollback) go through the promotion policy
 * (`promotion-policy.ts`) and are recorded with who and why.
 */
import { ConflictError, NotFoundError, UpdraftError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { type CompactionResult, compactVersion } from './compaction.ts';
import {
  type ConnectionSummary,
  connectionsFilePath,
  deleteConnection,
  listFileConnections,
  listStoredConnections,
  putConnection,
  rotateConnectionKeys,
} from './connection-store.ts';
import { datasetLineage, type LineageGraph } from './lineage.ts';
import type { Manifest } from './manifest.ts';
import { assertAliasName, assertDatasetName, parseRef } from './names.ts';
import {
  type Actor,
  type AliasPolicy,
  APPROVER_ROLES,
  aliasPolicy,
  assertMayMove,
  assertPassesGates,
  setAliasPolicy,
} from './promotion-policy.ts';
import {
  aliasesOf,
  assertDatasetExists,
  findVersion,
  LATEST,
  lockDataset,
  moveAlias,
  resolveRef,
  type VersionRow,
} from './registry.ts';
import { dataDb, type EtlRunsView } from './schema.ts';
import { SecretBox } from './secret-box.ts';
import { type DatasetStorage, datasetsRootForHome, LocalDatasetStorage } from './storage.ts';
import { type VacuumOptions, type VacuumReport, vacuum } from './vacuum.ts';

export interface DatasetSummary {
  name: string;
  description: string | null;
  latestVersion: number | null;
  versions: number;
  aliases: { [alias: string]: number };
  rows: number | null;
  bytes: number | null;
  updatedAt: string | null;
}

export interface VersionSummary {
  dataset: string;
  version: number;
  rows: number;
  bytes: number;
  files: number;
  aliases: string[];
  producedBy: {
    dagId: string | null;
    runId: string | null;
    taskId: string | null;
    tryNumber: number | null;
  };
  blockingChecksPassed: boolean | null;
  createdAt: string;
  deletedAt: string | null;
  /** Absolute folder of the version's Parquet files. */
  location: string;
}

export interface VersionDetail extends VersionSummary {
  manifest: Manifest;
}

export interface AliasMove {
  dataset: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number;
  actor: string;
  reason: string | null;
}

export interface AliasEvent extends AliasMove {
  action: 'commit' | 'promote' | 'rollback';
  actorRole: string | null;
  at: string;
}

/**
 * A data-producing run (a row of the `etl_runs` view), with its times as ISO strings so
 * it reads the same after crossing JSON (the control socket, `--json`).
 */
export interface EtlRun extends Omit<EtlRunsView, 'logical_date' | 'started_at' | 'ended_at'> {
  logical_date: string;
  started_at: string | null;
  ended_at: string | null;
}

export interface MoveOptions {
  actor: Actor;
  reason?: string | null;
}

export interface DatasetOperations {
  /** Every dataset with its latest version and aliases. */
  listDatasets(): Promise<DatasetSummary[]>;
  /** Versions of a dataset, newest first (vacuumed ones too, marked). */
  listVersions(dataset: string, options?: { limit?: number }): Promise<VersionSummary[]>;
  /** One version: `name`, `name@alias` or `name@v3`, with its manifest. */
  showVersion(ref: string): Promise<VersionDetail>;
  /** Points `alias` at `version` if the policy lets `actor` and the version passes the gates. */
  promote(
    dataset: string,
    version: number,
    alias: string,
    options: MoveOptions,
  ): Promise<AliasMove>;
  /** Moves `alias` back to the version it pointed at before its current one. */
  rollback(dataset: string, alias: string, options: MoveOptions): Promise<AliasMove>;
  /** Records an approval of `version` for `alias` (op or admin only). */
  approve(dataset: string, version: number, alias: string, options: MoveOptions): Promise<void>;
  /** Alias moves of a dataset (one alias or all), newest first. */
  aliasHistory(dataset: string, alias?: string): Promise<AliasEvent[]>;
  /** The policy of an alias. */
  getAliasPolicy(dataset: string, alias: string): Promise<AliasPolicy>;
  /** Sets the policy of an alias for a dataset or `*` (admin only). */
  setAliasPolicy(policy: Omit<AliasPolicy, 'source'>, actor: Actor): Promise<void>;
  /** Records whether a version's blocking quality checks passed (the quality layer's seam). */
  recordBlockingChecks(dataset: string, version: number, passed: boolean): Promise<void>;
  /** Retention; see `vacuum.ts`. */
  vacuum(options?: VacuumOptions): Promise<VacuumReport>;
  /** Rewrites a version's small files into fewer; see `compaction.ts`. */
  compact(dataset: string, version?: number, targetFileBytes?: number): Promise<CompactionResult>;
  /** Upstream and downstream of a dataset. */
  lineage(dataset: string): Promise<LineageGraph>;
  /** Data-producing runs: status, durations, rows, versions produced and consumed. */
  etlRuns(options?: { dagId?: string; limit?: number }): Promise<EtlRun[]>;
  /** Stored and file connections, redacted. */
  listConnections(): Promise<ConnectionSummary[]>;
  /** Stores (encrypted) or replaces a connection (op or admin). */
  putConnection(
    input: { name: string; url: string; description?: string | null },
    actor: Actor,
  ): Promise<ConnectionSummary>;
  /** Removes a stored connection (op or admin). */
  deleteConnection(name: string, actor: Actor): Promise<void>;
  /** Re-encrypts stored connections with the current key (admin). */
  rotateConnectionKey(actor: Actor): Promise<{ reencrypted: number }>;
}

export interface StoreDatasetOperationsOptions {
  store: Store;
  storage: DatasetStorage;
  secrets: () => SecretBox;
  connectionsFile: string;
  now?: () => Date;
}

/** `DatasetOperations` over the metadata store and the dataset storage. */
export class StoreDatasetOperations implements DatasetOperations {
  private readonly store: Store;
  private readonly storage: DatasetStorage;
  private readonly now: () => Date;

  constructor(private readonly options: StoreDatasetOperationsOptions) {
    this.store = options.store;
    this.storage = options.storage;
    this.now = options.now ?? (() => new Date());
  }

  async listDatasets(): Promise<DatasetSummary[]> {
    const data = dataDb(this.store.db);
    const datasets = await data.selectFrom('datasets').selectAll().orderBy('name').execute();
    const aliases = await data
      .selectFrom('dataset_aliases')
      .select(['dataset', 'alias', 'version'])
      .execute();
    const counts = await data
      .selectFrom('dataset_versions')
      .select(['dataset'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('deleted_at', 'is', null)
      .groupBy('dataset')
      .execute();
    const latest = await data
      .selectFrom('dataset_versions as v')
      .innerJoin('dataset_aliases as a', (j) =>
        j.onRef('a.dataset', '=', 'v.dataset').onRef('a.version', '=', 'v.version'),
      )
      .select(['v.dataset', 'v.version', 'v.row_count', 'v.bytes', 'v.created_at'])
      .where('a.alias', '=', LATEST)
      .execute();
    return datasets.map((d) => {
      const head = latest.find((l) => l.dataset === d.name);
      return {
        name: d.name,
        description: d.description,
        latestVersion: head?.version ?? null,
        versions: Number(counts.find((c) => c.dataset === d.name)?.n ?? 0),
        aliases: Object.fromEntries(
          aliases.filter((a) => a.dataset === d.name).map((a) => [a.alias, a.version]),
        ),
        rows: head?.row_count ?? null,
        bytes: head?.bytes ?? null,
        updatedAt: head ? new Date(head.created_at).toISOString() : null,
      };
    });
  }

  async listVersions(dataset: string, options: { limit?: number } = {}): Promise<VersionSummary[]> {
    assertDatasetName(dataset);
    await assertDatasetExists(this.store.db, dataset);
    const rows = await dataDb(this.store.db)
      .selectFrom('dataset_versions')
      .selectAll()
      .where('dataset', '=', dataset)
      .orderBy('version', 'desc')
      .limit(options.limit ?? 100)
      .execute();
    const aliases = await aliasesOf(this.store.db, dataset);
    return rows.map((row) => this.summary(row, aliases));
  }

  async showVersion(ref: string): Promise<VersionDetail> {
    const row = await this.resolveIncludingDeleted(ref);
    const aliases = await aliasesOf(this.store.db, row.dataset);
    return { ...this.summary(row, aliases), manifest: row.manifest };
  }

  async promote(
    dataset: string,
    version: number,
    alias: string,
    options: MoveOptions,
  ): Promise<AliasMove> {
    assertDatasetName(dataset);
    assertAliasName(alias);
    return this.store.transaction(async (tx) => {
      await assertDatasetExists(tx, dataset);
      await lockDataset(tx, dataset);
      const policy = await aliasPolicy(tx, dataset, alias);
      assertMayMove(policy, options.actor);
      await assertPassesGates(tx, policy, await resolveRef(tx, { name: dataset, version }));
      const reason = options.reason ?? null;
      const from = await moveAlias(
        tx,
        dataset,
        alias,
        version,
        {
          actor: options.actor.name,
          role: options.actor.role,
          reason,
          action: 'promote',
        },
        this.now(),
      );
      return {
        dataset,
        alias,
        fromVersion: from,
        toVersion: version,
        actor: options.actor.name,
        reason,
      };
    });
  }

  async rollback(dataset: string, alias: string, options: MoveOptions): Promise<AliasMove> {
    assertDatasetName(dataset);
    assertAliasName(alias);
    return this.store.transaction(async (tx) => {
      await assertDatasetExists(tx, dataset);
      await lockDataset(tx, dataset);
      assertMayMove(await aliasPolicy(tx, dataset, alias), options.actor);
      const events = await dataDb(tx)
        .selectFrom('dataset_alias_events')
        .select(['action', 'to_version'])
        .where('dataset', '=', dataset)
        .where('alias', '=', alias)
        .orderBy('id')
        .execute();
      // Each promotion pushes a version, each rollback pops one: rolling back twice
      // walks two promotions back, not back and forth.
      const stack: number[] = [];
      for (const event of events) {
        if (event.action === 'rollback') stack.pop();
        else stack.push(event.to_version);
      }
      const current = stack.at(-1);
      const previous = stack.at(-2);
      if (current === undefined || previous === undefined) {
        throw new ConflictError(
          `cannot roll back '${dataset}@${alias}': ${current === undefined ? 'the alias does not exist' : `v${current} is the first version it pointed at`}`,
        );
      }
      const row = await findVersion(tx, dataset, previous);
      if (row === undefined || row.deleted_at !== null) {
        throw new ConflictError(
          `cannot roll back '${dataset}@${alias}' to v${previous}: vacuum removed that version; promote another one`,
        );
      }
      const reason = options.reason ?? null;
      await moveAlias(
        tx,
        dataset,
        alias,
        previous,
        {
          actor: options.actor.name,
          role: options.actor.role,
          reason,
          action: 'rollback',
        },
        this.now(),
      );
      return {
        dataset,
        alias,
        fromVersion: current,
        toVersion: previous,
        actor: options.actor.name,
        reason,
      };
    });
  }

  async approve(
    dataset: string,
    version: number,
    alias: string,
    options: MoveOptions,
  ): Promise<void> {
    assertDatasetName(dataset);
    assertAliasName(alias);
    if (!APPROVER_ROLES.includes(options.actor.role)) {
      throw forbidden(
        `approving a promotion needs the ${APPROVER_ROLES.join(' or ')} role; '${options.actor.name}' is ${options.actor.role}`,
      );
    }
    await resolveRef(this.store.db, { name: dataset, version });
    await dataDb(this.store.db)
      .insertInto('dataset_approvals')
      .values({
        dataset,
        version,
        alias,
        approved_by: options.actor.name,
        approver_role: options.actor.role,
        reason: options.reason ?? null,
        at: this.now(),
      })
      .execute();
  }

  async aliasHistory(dataset: string, alias?: string): Promise<AliasEvent[]> {
    assertDatasetName(dataset);
    await assertDatasetExists(this.store.db, dataset);
    let query = dataDb(this.store.db)
      .selectFrom('dataset_alias_events')
      .selectAll()
      .where('dataset', '=', dataset);
    if (alias !== undefined) query = query.where('alias', '=', alias);
    const rows = await query.orderBy('id', 'desc').limit(500).execute();
    return rows.map((r) => ({
      dataset: r.dataset,
      alias: r.alias,
      action: r.action,
      fromVersion: r.from_version,
      toVersion: r.to_version,
      actor: r.actor,
      actorRole: r.actor_role,
      reason: r.reason,
      at: new Date(r.at).toISOString(),
    }));
  }

  getAliasPolicy(dataset: string, alias: string): Promise<AliasPolicy> {
    return aliasPolicy(this.store.db, dataset, alias);
  }

  async setAliasPolicy(policy: Omit<AliasPolicy, 'source'>, actor: Actor): Promise<void> {
    if (actor.role !== 'admin')
      throw forbidden(
        `changing a promotion policy needs the admin role; '${actor.name}' is ${actor.role}`,
      );
    if (policy.dataset !== '*') assertDatasetName(policy.dataset);
    assertAliasName(policy.alias);
    if (policy.alias === LATEST)
      throw forbidden(`'${LATEST}' moves with every commit; it has no promotion policy`);
    await setAliasPolicy(this.store.db, policy);
  }

  async recordBlockingChecks(dataset: string, version: number, passed: boolean): Promise<void> {
    const result = await dataDb(this.store.db)
      .updateTable('dataset_versions')
      .set({ blocking_checks_passed: passed })
      .where('dataset', '=', dataset)
      .where('version', '=', version)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n)
      throw new NotFoundError(`no version v${version} of dataset '${dataset}'`);
  }

  vacuum(options?: VacuumOptions): Promise<VacuumReport> {
    if (options?.dataset !== undefined) assertDatasetName(options.dataset);
    return vacuum(this.store, this.storage, { now: this.now(), ...options });
  }

  async compact(
    dataset: string,
    version?: number,
    targetFileBytes?: number,
  ): Promise<CompactionResult> {
    assertDatasetName(dataset);
    return compactVersion(this.store, this.storage, dataset, version, targetFileBytes);
  }

  async lineage(dataset: string): Promise<LineageGraph> {
    assertDatasetName(dataset);
    await assertDatasetExists(this.store.db, dataset);
    return datasetLineage(this.store.db, dataset);
  }

  async etlRuns(options: { dagId?: string; limit?: number } = {}): Promise<EtlRun[]> {
    let query = dataDb(this.store.db).selectFrom('etl_runs').selectAll();
    if (options.dagId !== undefined) query = query.where('dag_id', '=', options.dagId);
    const rows = await query
      .orderBy('run_pk', 'desc')
      .limit(options.limit ?? 50)
      .execute();
    const iso = (at: Date | string | null) => (at === null ? null : new Date(at).toISOString());
    return rows.map((r) => ({
      ...r,
      logical_date: new Date(r.logical_date).toISOString(),
      started_at: iso(r.started_at),
      ended_at: iso(r.ended_at),
      duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
      rows_written: Number(r.rows_written),
      bytes_written: Number(r.bytes_written),
    }));
  }

  async listConnections(): Promise<ConnectionSummary[]> {
    const stored = await listStoredConnections(this.store.db, this.options.secrets());
    const file = listFileConnections(this.options.connectionsFile).filter(
      (f) => !stored.some((s) => s.name === f.name),
    );
    return [...stored, ...file].sort((a, b) => a.name.localeCompare(b.name));
  }

  async putConnection(
    input: { name: string; url: string; description?: string | null },
    actor: Actor,
  ): Promise<ConnectionSummary> {
    requireRole(actor, ['op', 'admin'], 'storing a connection');
    return putConnection(this.store.db, this.options.secrets(), input, this.now());
  }

  async deleteConnection(name: string, actor: Actor): Promise<void> {
    requireRole(actor, ['op', 'admin'], 'removing a connection');
    await deleteConnection(this.store.db, name);
  }

  async rotateConnectionKey(actor: Actor): Promise<{ reencrypted: number }> {
    requireRole(actor, ['admin'], 'rotating the connection key');
    const box = this.options.secrets();
    return { reencrypted: await this.store.transaction((tx) => rotateConnectionKeys(tx, box)) };
  }

  private async resolveIncludingDeleted(text: string): Promise<VersionRow> {
    const ref = parseRef(text);
    if (ref.version !== undefined) {
      await assertDatasetExists(this.store.db, ref.name);
      const row = await findVersion(this.store.db, ref.name, ref.version);
      if (row === undefined)
        throw new NotFoundError(`dataset '${ref.name}' has no version v${ref.version}`);
      return row;
    }
    return resolveRef(this.store.db, ref);
  }

  private summary(row: VersionRow, aliases: { alias: string; version: number }[]): VersionSummary {
    return {
      dataset: row.dataset,
      version: row.version,
      rows: row.row_count,
      bytes: row.bytes,
      files: row.file_count,
      aliases: aliases.filter((a) => a.version === row.version).map((a) => a.alias),
      producedBy: {
        dagId: row.dag_id,
        runId: row.run_id,
        taskId: row.task_id,
        tryNumber: row.try_number,
      },
      blockingChecksPassed: row.blocking_checks_passed,
      createdAt: new Date(row.created_at).toISOString(),
      deletedAt: row.deleted_at === null ? null : new Date(row.deleted_at).toISOString(),
      location: this.storage.resolve(row.path),
    };
  }
}

function forbidden(message: string): UpdraftError {
  return new UpdraftError('forbidden', message);
}

function requireRole(actor: Actor, roles: Actor['role'][], what: string): void {
  if (!roles.includes(actor.role)) {
    throw forbidden(
      `${what} needs the ${roles.join(' or ')} role; '${actor.name}' is ${actor.role}`,
    );
  }
}

/** `DatasetOperations` for a store and home folder, with the defaults the runtime uses. */
export function createDatasetOperations(store: Store, home: string): StoreDatasetOperations {
  return new StoreDatasetOperations({
    store,
    storage: new LocalDatasetStorage(datasetsRootForHome(home)),
    secrets: memoSecretBox(),
    connectionsFile: connectionsFilePath(home),
  });
}

/** The environment's secret box, read on first use (a missing key only matters then). */
function memoSecretBox(): () => SecretBox {
  let box: SecretBox | undefined;
  return () => {
    box ??= SecretBox.fromEnv();
    return box;
  };
}
