/**
 * Numbered migrations (`src/store/migrations/NNNN-name.ts`), applied in order and
 * recorded in `kysely_migration`. Adding a migration: a new file with the next number
 * and an entry in `MIGRATIONS`; never edit one that has shipped.
 */
import { type Kysely, type Migration, Migrator } from 'kysely';
import * as initial from './migrations/0001-initial.ts';
import * as datasetTriggers from './migrations/0002-dataset-triggers.ts';
import * as dataLayer from './migrations/0003-data-layer.ts';
import * as authAudit from './migrations/0004-auth-audit.ts';
import * as alerting from './migrations/0005-alerting.ts';
import * as schedulerHa from './migrations/0006-scheduler-ha.ts';
import * as quality from './migrations/0007-quality.ts';
import * as qualityReplays from './migrations/0008-quality-replays.ts';

const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-dataset-triggers': datasetTriggers,
  '0003-data-layer': dataLayer,
  '0004-auth-audit': authAudit,
  '0005-alerting': alerting,
  '0006-scheduler-ha': schedulerHa,
  '0007-quality': quality,
  '0008-quality-replays': qualityReplays,
};

/** Applies pending migrations; returns the names applied. Throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(
      `database migration ${failed ? `'${failed.migrationName}' ` : ''}failed: ${String((error as Error).message ?? error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
