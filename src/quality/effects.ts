/**
 * What the `quality` operator hands to the commit, and what the quality hooks hand to
 * the operator:
 *
 * - `quality_results` effect (worker → commit): the checked version, each check's
 *   result, the metric values for the history, and the quarantine and clean-output
 *   datasets it staged. Committed with the task's success by `quality-hooks.ts`.
 * - `inputs['$quality']` (prepare → worker): the previous version of the checked
 *   dataset and the history of the metrics its anomaly checks judge; the worker never
 *   reads the store.
 */
import type { Json } from '../core/dag-spec.ts';
import { UpdraftError } from '../core/errors.ts';
import type { AttemptEffect } from '../executor/executor.ts';
import type { MetricPoint } from './anomaly.ts';
import type { CheckResult, MetricValue } from './check-runner.ts';

export const QUALITY_RESULTS_EFFECT = 'quality_results';
/** `inputs` key of the quality context. */
export const QUALITY_INPUT_KEY = '$quality';

/** The results of one quality task on one version. */
export interface QualityRun {
  dataset: string;
  version: number;
  results: CheckResult[];
  metrics: MetricValue[];
  /** When the values were observed (the run's data interval start), ISO. */
  observedAt: string;
  /** Rows checked. */
  rows: number;
  /** The quarantine dataset that got the failing rows, and how many. */
  quarantine: { dataset: string; rows: number } | null;
  /** With `quarantine: true`: the dataset that got the clean rows, and how many. */
  output: { dataset: string; rows: number } | null;
  /** Whether row-level failures were quarantined instead of failing (`quarantine: true`). */
  quarantined: boolean;
}

/** What `prepareAttempt` gives a quality task. */
export interface QualityInput {
  /** The version before the checked one (distribution checks), or null. */
  previous: { version: number; path: string } | null;
  /** Earlier versions' values of the metrics anomaly checks judge, by metric. */
  history: { [metric: string]: MetricPoint[] };
}

export function qualityResultsEffect(run: QualityRun): AttemptEffect {
  return { kind: QUALITY_RESULTS_EFFECT, data: run as unknown as Json };
}

/** Reads a `quality_results` effect back, checking what the commit relies on. */
export function parseQualityRun(data: Json): QualityRun {
  const value = data as unknown as Partial<QualityRun> | null;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.dataset !== 'string' ||
    typeof value.version !== 'number' ||
    !Array.isArray(value.results) ||
    !Array.isArray(value.metrics)
  ) {
    throw new UpdraftError('effect_invalid', 'a quality_results effect is malformed');
  }
  return value as QualityRun;
}

/** The blocking checks that failed (status `error`) and whose rows were not quarantined. */
export function blockingFailures(run: QualityRun): CheckResult[] {
  return run.results.filter((r) => r.blocking && r.status === 'error' && !r.quarantined);
}
