/**
 * Task settings with their defaults applied: from the friendly `TaskDefaults` form
 * (durations as `'30s'`) to the fields of a `TaskSpec` (milliseconds). The one place the
 * task defaults live, for every way of writing a pipeline.
 */
import type { DeadlineSpec, NotifySpec, TaskSpec } from '../core/dag-spec.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import type { WeightRule } from '../loader/dag-graph.ts';
import type { DeadlineOptions, NotifyOptions, TaskDefaults, TaskOptions } from './types.ts';

/** Defaults of every task setting (Airflow's where it has one). */
export const TASK_DEFAULTS = {
  retries: 0,
  retryDelayMs: 300_000,
  retryExponentialBackoff: false,
  maxRetryDelayMs: null,
  executionTimeoutMs: null,
  triggerRule: 'all_success',
  pool: 'default_pool',
  poolSlots: 1,
  priorityWeight: 1,
  weightRule: 'downstream',
  queue: 'default',
} as const satisfies Omit<ResolvedTaskSettings, 'notify' | 'deadline'>;

/** The settings part of a `TaskSpec`, with the task's own weight and its weight rule. */
export type ResolvedTaskSettings = Pick<
  TaskSpec,
  | 'retries'
  | 'retryDelayMs'
  | 'retryExponentialBackoff'
  | 'maxRetryDelayMs'
  | 'executionTimeoutMs'
  | 'triggerRule'
  | 'pool'
  | 'poolSlots'
  | 'priorityWeight'
  | 'queue'
  | 'notify'
  | 'deadline'
> & { weightRule: WeightRule };

/** Receives a problem with a setting, by its option name (`retryDelay`). */
export type SettingProblem = (field: string, message: string) => void;

/**
 * Applies the defaults to `settings` and converts durations to milliseconds. A duration
 * that does not parse is reported and replaced by its default; other values are taken
 * as given (the spec validator checks them).
 */
export function resolveTaskSettings(
  settings: TaskDefaults,
  problem: SettingProblem,
): ResolvedTaskSettings {
  const duration = <D extends number | null>(field: keyof TaskDefaults, fallback: D) => {
    const value = settings[field] as Duration | null | undefined;
    if (value === undefined) return fallback;
    if (value === null) return null;
    try {
      return parseDuration(value);
    } catch (error) {
      problem(field, error instanceof Error ? error.message : String(error));
      return fallback;
    }
  };
  return {
    retries: settings.retries ?? TASK_DEFAULTS.retries,
    retryDelayMs: duration('retryDelay', TASK_DEFAULTS.retryDelayMs) ?? TASK_DEFAULTS.retryDelayMs,
    retryExponentialBackoff:
      settings.retryExponentialBackoff ?? TASK_DEFAULTS.retryExponentialBackoff,
    maxRetryDelayMs: duration('maxRetryDelay', TASK_DEFAULTS.maxRetryDelayMs),
    executionTimeoutMs: duration('executionTimeout', TASK_DEFAULTS.executionTimeoutMs),
    triggerRule: settings.triggerRule ?? TASK_DEFAULTS.triggerRule,
    pool: settings.pool ?? TASK_DEFAULTS.pool,
    poolSlots: settings.poolSlots ?? TASK_DEFAULTS.poolSlots,
    priorityWeight: settings.priorityWeight ?? TASK_DEFAULTS.priorityWeight,
    weightRule: settings.weightRule ?? TASK_DEFAULTS.weightRule,
    queue: settings.queue ?? TASK_DEFAULTS.queue,
    notify: notifySpec(settings.notify),
    deadline: deadlineSpec(settings.deadline, (message) => problem('deadline', message)),
  };
}

/** The spec form of `notify` options: every event present, lists copied. */
export function notifySpec(options: NotifyOptions | undefined): NotifySpec {
  return {
    onSuccess: [...(options?.onSuccess ?? [])],
    onFailure: [...(options?.onFailure ?? [])],
    onRetry: [...(options?.onRetry ?? [])],
    onDeadlineMiss: [...(options?.onDeadlineMiss ?? [])],
  };
}

/** The spec form of a `deadline` option; a bad duration is reported and dropped. */
export function deadlineSpec(
  options: DeadlineOptions | null | undefined,
  problem: (message: string) => void,
): DeadlineSpec | null {
  if (options === undefined || options === null) return null;
  try {
    return { afterMs: parseDuration(options.after), from: options.from ?? 'start' };
  } catch (error) {
    problem(error instanceof Error ? error.message : String(error));
    return null;
  }
}

/** Every field of `TaskDefaults`, for spotting misspelt options in plain JavaScript. */
export const TASK_DEFAULTS_FIELDS: Readonly<Record<keyof TaskDefaults, true>> = {
  retries: true,
  retryDelay: true,
  retryExponentialBackoff: true,
  maxRetryDelay: true,
  executionTimeout: true,
  triggerRule: true,
  pool: true,
  poolSlots: true,
  priorityWeight: true,
  weightRule: true,
  queue: true,
  notify: true,
  deadline: true,
};

/** Every field of `TaskOptions`. */
export const TASK_OPTIONS_FIELDS: Readonly<Record<keyof TaskOptions, true>> = {
  ...TASK_DEFAULTS_FIELDS,
  doc: true,
  upstream: true,
  inlets: true,
  outlets: true,
  connections: true,
  mapOver: true,
  branch: true,
};
