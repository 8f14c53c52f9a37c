/**
 * Quarantine: the failing rows of row-level checks, written as a new version of the
 * quarantine dataset (a dead-letter store) with `_check_id` and `_reason` next to the
 * row's own columns; a row failing two checks appears twice. With `quarantine: true`,
 * the rows failing no row-level check become a new version of the clean output.
 *
 * Rows are flagged in one pass over the version (one boolean per failed check, window
 * functions allowed: duplicates), and only when a row-level check failed, so clean data
 * costs no extra scan. Replay (fixed rows back into the clean output, checked again):
 * `quarantine-replay.ts`.
 */

import { type DuckDbSession, sqlString } from '../data/duckdb-session.ts';
import { stageQuery } from '../data/stage-version.ts';
import type { OperatorContext } from '../operators/operator.ts';
import { type CompiledCheck, DATA_VIEW } from './check-plan.ts';
import type { CheckResult } from './check-runner.ts';

export const CHECK_ID_COLUMN = '_check_id';
export const REASON_COLUMN = '_reason';
const FLAGS_TABLE = '_quality_flags';

export interface QuarantineTargets {
  /** Dataset receiving failing rows. */
  quarantine: string;
  /** Dataset receiving clean rows, or null to write none. */
  output: string | null;
}

export interface QuarantineOutcome {
  /** Ids of the checks whose failing rows were written. */
  checkIds: string[];
  quarantine: { dataset: string; rows: number } | null;
  output: { dataset: string; rows: number } | null;
}

/**
 * Writes the failing rows of the failed row-level checks (and, when `targets.output` is
 * set, the clean rows). Nothing is written when no row-level check failed, unless clean
 * rows are asked for (then the output is the whole version).
 */
export async function writeQuarantine(
  ctx: OperatorContext,
  session: DuckDbSession,
  compiled: readonly CompiledCheck[],
  results: readonly CheckResult[],
  targets: QuarantineTargets,
): Promise<QuarantineOutcome> {
  const what = `task '${ctx.taskId}' quarantining failing rows`;
  const failed = compiled.filter(
    (c, i) =>
      c.rowPredicate !== null &&
      (results[i]?.status === 'warn' || results[i]?.status === 'error') &&
      (results[i]?.failingRows ?? 0) > 0,
  );
  const outcome: QuarantineOutcome = {
    checkIds: failed.map((c) => c.check.id),
    quarantine: null,
    output: null,
  };
  if (failed.length === 0) {
    if (targets.output !== null) {
      const staged = await stageQuery(ctx, session, targets.output, `select * from ${DATA_VIEW}`);
      outcome.output = { dataset: targets.output, rows: staged.rows };
    }
    return outcome;
  }
  const flag = (i: number) => `_qf_${i}`;
  const flags = failed.map((_, i) => flag(i));
  await session.run(
    `create or replace temp table ${FLAGS_TABLE} as select *, ${failed
      .map((c, i) => `coalesce(${c.rowPredicate}, false) as ${flag(i)}`)
      .join(', ')} from ${DATA_VIEW}`,
    what,
  );
  const keep = `* exclude (${flags.join(', ')})`;
  const quarantineQuery = failed
    .map(
      (c, i) =>
        `select ${keep}, ${sqlString(c.check.id)} as ${CHECK_ID_COLUMN}, ${sqlString(c.reason)} as ${REASON_COLUMN} from ${FLAGS_TABLE} where ${flag(i)}`,
    )
    .join(' union all ');
  const staged = await stageQuery(ctx, session, targets.quarantine, quarantineQuery, { what });
  outcome.quarantine = { dataset: targets.quarantine, rows: staged.rows };
  if (targets.output !== null) {
    const clean = await stageQuery(
      ctx,
      session,
      targets.output,
      `select ${keep} from ${FLAGS_TABLE} where not (${flags.join(' or ')})`,
      { what: `task '${ctx.taskId}' writing the clean rows` },
    );
    outcome.output = { dataset: targets.output, rows: clean.rows };
  }
  await session.run(`drop table ${FLAGS_TABLE}`, what);
  return outcome;
}
