/**
 * The dataset registry: the SQL over the data layer's tables (datasets, versions,
 * aliases and their history). Every function takes a `Db` (store handle or transaction)
 * so callers choose the transaction.
 */
import { type Selectable, sql } from 'kysely';
import { closestMatch } from '../core/closest-match.ts';
import type { DatasetRef } from '../core/dataset-ref.ts';
import { NotFoundError } from '../core/errors.ts';
import type { Db } from '../store/store.ts';
import { type DataDb, type DatasetVersionsTable, dataDb } from './schema.ts';

/** The alias every commit moves. */
export const LATEST = 'latest';

/** A version row as read back. */
export type VersionRow = Selectable<DatasetVersionsTable>;

/** Creates the dataset row if it is new. */
export async function ensureDataset(db: DataDb, name: string): Promise<void> {
  await db
    .insertInto('datasets')
    .values({ name, description: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/** Throws `NotFoundError` with a "did you mean" when dataset `name` does not exist. */
export async function assertDatasetExists(db: Db, name: string): Promise<void> {
  const data = dataDb(db);
  const found = await data
    .selectFrom('datasets')
    .select('name')
    .where('name', '=', name)
    .executeTakeFirst();
  if (found !== undefined) return;
  const names = (await data.selectFrom('datasets').select('name').execute()).map((r) => r.name);
  const guess = closestMatch(name, names);
  throw new NotFoundError(
    `no dataset '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}: datasets appear when a task first writes them`,
  );
}

/** The row of `dataset` version `version`, or undefined. */
export async function findVersion(
  db: Db,
  dataset: string,
  version: number,
): Promise<VersionRow | undefined> {
  return dataDb(db)
    .selectFrom('dataset_versions')
    .selectAll()
    .where('dataset', '=', dataset)
    .where('version', '=', version)
    .executeTakeFirst();
}

/**
 * The live version `ref` points at. Throws `NotFoundError` saying what exists when the
 * dataset, alias or version does not, or when vacuum removed the version.
 */
export async function resolveRef(db: Db, ref: DatasetRef): Promise<VersionRow> {
  await assertDatasetExists(db, ref.name);
  let version: number;
  if (ref.version !== undefined) {
    version = ref.version;
  } else {
    const alias = await dataDb(db)
      .selectFrom('dataset_aliases')
      .select('version')
      .where('dataset', '=', ref.name)
      .where('alias', '=', ref.alias)
      .executeTakeFirst();
    if (alias === undefined) {
      const aliases = await aliasesOf(db, ref.name);
      const known = aliases.map((a) => `${a.alias} → v${a.version}`).join(', ') || 'none';
      throw new NotFoundError(
        ref.alias === LATEST
          ? `dataset '${ref.name}' has no versions yet`
          : `dataset '${ref.name}' has no alias '${ref.alias}' (aliases: ${known}); promote a version to it first`,
      );
    }
    version = alias.version;
  }
  const row = await findVersion(db, ref.name, version);
  if (row === undefined) {
    const latest = await latestVersionNumber(db, ref.name);
    throw new NotFoundError(
      `dataset '${ref.name}' has no version v${version} (latest: ${latest === null ? 'none' : `v${latest}`})`,
    );
  }
  if (row.deleted_at !== null) {
    throw new NotFoundError(
      `dataset '${ref.name}' v${version} was removed by vacuum on ${new Date(row.deleted_at).toISOString()}`,
    );
  }
  return row;
}

/** Highest version number of `dataset`, or null. */
export async function latestVersionNumber(db: Db, dataset: string): Promise<number | null> {
  const row = await dataDb(db)
    .selectFrom('dataset_versions')
    .select((eb) => eb.fn.max('version').as('max'))
    .where('dataset', '=', dataset)
    .executeTakeFirst();
  return row?.max ?? null;
}

/** Aliases of `dataset`, by name. */
export function aliasesOf(db: Db, dataset: string) {
  return dataDb(db)
    .selectFrom('dataset_aliases')
    .select(['alias', 'version', 'moved_at', 'moved_by', 'reason'])
    .where('dataset', '=', dataset)
    .orderBy('alias')
    .execute();
}

/** Who moves an alias and why. */
export interface AliasMoveBy {
  actor: string;
  role: string | null;
  reason: string | null;
  action: 'commit' | 'promote' | 'rollback';
}

/** Points `alias` of `dataset` at `version` and records the move. Returns the previous version. */
export async function moveAlias(
  db: Db,
  dataset: string,
  alias: string,
  version: number,
  by: AliasMoveBy,
  now = new Date(),
): Promise<number | null> {
  const data = dataDb(db);
  const previous = await data
    .selectFrom('dataset_aliases')
    .select('version')
    .where('dataset', '=', dataset)
    .where('alias', '=', alias)
    .forUpdate()
    .executeTakeFirst();
  await data
    .insertInto('dataset_aliases')
    .values({ dataset, alias, version, moved_at: now, moved_by: by.actor, reason: by.reason })
    .onConflict((oc) =>
      oc
        .columns(['dataset', 'alias'])
        .doUpdateSet({ version, moved_at: now, moved_by: by.actor, reason: by.reason }),
    )
    .execute();
  await data
    .insertInto('dataset_alias_events')
    .values({
      dataset,
      alias,
      action: by.action,
      from_version: previous?.version ?? null,
      to_version: version,
      actor: by.actor,
      actor_role: by.role,
      reason: by.reason,
      at: now,
    })
    .execute();
  return previous?.version ?? null;
}

/** Takes the dataset's row lock (serialises version numbering and alias moves). */
export async function lockDataset(db: Db, dataset: string): Promise<void> {
  await sql`select name from datasets where name = ${dataset} for update`.execute(db);
}
