/**
 * The quality layer's part in an attempt's life, composed around another subsystem's
 * `AttemptHooks` (the data layer's) in the style of `src/scheduler/attempt-hooks.ts`:
 *
 * - prepare: after the inner hooks pinned the task's inlets, a `quality` task also gets
 *   the previous version of the checked dataset and the metric history its anomaly
 *   checks judge (`inputs['$quality']`), read from the store here since workers never
 *   read it;
 * - commit: `quality_results` effects are recorded (results per check, version and run;
 *   metric history; the version's `blocking_checks_passed`; the manifest summary);
 *   other effects (the quarantine and clean-output versions) go to the inner hooks.
 *   When a blocking check failed, the clean output is not published, the quarantine is,
 *   and the attempt is recorded as failed (no retry) with the failing checks — so
 *   downstream tasks do not run and the version cannot be promoted.
 *
 * Wire it in the runtime as `withQualityHooks(createDataHooks({ home }), { home })`.
 */

import { dataDb } from '../data/schema.ts';
import { type DatasetStorage, datasetsRootForHome, LocalDatasetStorage } from '../data/storage.ts';
import { chosenInlet, type PinnedInput } from '../data/task-inputs.ts';
import type { AttemptEffect } from '../executor/executor.ts';
import { traceStep } from '../observability/tracing.ts';
import type { AttemptHooks, HookTarget, PreparedContext } from '../scheduler/attempt-hooks.ts';
import type { Db } from '../store/store.ts';
import { ANOMALY_DEFAULTS } from './anomaly.ts';
import type { CheckSpec } from './check-spec.ts';
import {
  blockingFailures,
  parseQualityRun,
  QUALITY_INPUT_KEY,
  QUALITY_RESULTS_EFFECT,
  type QualityInput,
  type QualityRun,
} from './effects.ts';
import { parseMetric } from './metrics.ts';
import { markCleanOutput, metricHistory, recordQualityRun } from './quality-store.ts';

export const QUALITY_OPERATOR = 'quality';

export interface QualityHooksOptions {
  /** Home folder: dataset storage in `<home>/datasets`. */
  home: string;
  /** Dataset storage (default: local, under `<home>/datasets`). */
  storage?: DatasetStorage;
  /** Called after each recorded quality run (e.g. to notify); inside the transaction. */
  onRecorded?: (run: QualityRun, target: HookTarget) => void;
  /** Clock for timestamps (default `Date`). */
  now?: () => Date;
}

/** `inner` with the quality layer's preparation and commit added; see the module doc. */
export function withQualityHooks(inner: AttemptHooks, options: QualityHooksOptions): AttemptHooks {
  const storage = options.storage ?? new LocalDatasetStorage(datasetsRootForHome(options.home));
  const now = options.now ?? (() => new Date());
  return {
    needsPreparation: (task) => task.operator === QUALITY_OPERATOR || inner.needsPreparation(task),
    async prepareAttempt(db, target) {
      const prepared = inner.needsPreparation(target.task)
        ? await inner.prepareAttempt(db, target)
        : {};
      if (target.task.operator !== QUALITY_OPERATOR) return prepared;
      return prepareQuality(db, target, prepared);
    },
    async commitEffects(db, target, effects) {
      const runs = effects
        .filter((e) => e.kind === QUALITY_RESULTS_EFFECT)
        .map((e) => parseQualityRun(e.data));
      const failures = runs.flatMap((run) =>
        blockingFailures(run).map(
          (r) => `${run.dataset} v${run.version} '${r.checkId}': ${r.message}`,
        ),
      );
      // A failed gate publishes no clean output (the quarantine is kept for inspection).
      const withheld = new Set(
        failures.length > 0 ? runs.flatMap((run) => (run.output ? [run.output.dataset] : [])) : [],
      );
      const others = effects.filter(
        (e) => e.kind !== QUALITY_RESULTS_EFFECT && !withheld.has(datasetOf(e)),
      );
      const done =
        others.length > 0 ? await inner.commitEffects(db, target, others) : { updatedDatasets: [] };
      for (const run of runs) {
        await traceStep(
          `quality results ${run.dataset} v${run.version}`,
          () => ({
            'updraft.dataset': run.dataset,
            'updraft.version': run.version,
            'updraft.checks': run.results.length,
          }),
          () => recordQualityRun(db, target, run, storage, now()),
        );
        if (run.output !== null && !withheld.has(run.output.dataset)) {
          await markCleanOutput(db, run.output.dataset, true);
        }
        options.onRecorded?.(run, target);
      }
      if (failures.length === 0) return done;
      return {
        ...done,
        failure: `blocking quality checks failed:\n${failures.map((f) => `  ${f}`).join('\n')}`,
      };
    },
  };
}

function datasetOf(effect: AttemptEffect): string {
  const data = effect.data as { dataset?: unknown } | null;
  return typeof data?.dataset === 'string' ? data.dataset : '';
}

async function prepareQuality(
  db: Db,
  target: HookTarget,
  prepared: PreparedContext,
): Promise<PreparedContext> {
  const config = target.task.config as { dataset?: string; checks?: CheckSpec[] };
  const ref = chosenInlet(config.dataset, target.task.inlets);
  const pinned =
    ref === null
      ? undefined
      : (prepared.inputs?.[ref] as unknown as PinnedInput | null | undefined);
  // The operator says what is wrong (no inlet to check, or an absent one) when it runs.
  if (pinned === undefined || pinned === null) return prepared;
  const previous = await dataDb(db)
    .selectFrom('dataset_versions')
    .select(['version', 'path'])
    .where('dataset', '=', pinned.dataset)
    .where('version', '<', pinned.version)
    .where('deleted_at', 'is', null)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  const anomaly = (config.checks ?? []).filter(
    (c) => c.type === 'anomaly' && c.metric !== undefined,
  );
  const metrics = [
    ...new Set(
      anomaly.flatMap((c) => {
        try {
          return [parseMetric(c.metric as string).name];
        } catch {
          return []; // reported by the operator's validation
        }
      }),
    ),
  ];
  const lookback = Math.max(ANOMALY_DEFAULTS.lookback, ...anomaly.map((c) => c.lookback ?? 0));
  const quality: QualityInput = {
    previous: previous ?? null,
    history:
      metrics.length > 0
        ? await metricHistory(db, pinned.dataset, pinned.version, metrics, lookback)
        : {},
  };
  return { ...prepared, inputs: { ...prepared.inputs, [QUALITY_INPUT_KEY]: quality as never } };
}
