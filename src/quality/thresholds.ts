/**
 * Thresholds (`warn_if`, `error_if`): a comparison with a check's measured value, such
 * as `> 0`, `>= 100` or `> 1%` (a percent of the checked rows). A check's status is
 * `error` when `error_if` matches, else `warn` when `warn_if` matches, else `pass`.
 * Without thresholds, a failed check takes its `severity`.
 */
import { THRESHOLD_PATTERN } from './check-spec.ts';

export const COMPARATORS = ['>=', '<=', '>', '<', '=', '!='] as const;
export type Comparator = (typeof COMPARATORS)[number];

export interface Threshold {
  op: Comparator;
  value: number;
  /** The value is a percent of the checked rows. */
  percent: boolean;
  /** As written. */
  text: string;
}

/** Parses `> 10`, `>= 5%`; throws a message saying what a threshold looks like. */
export function parseThreshold(text: string): Threshold {
  const match = /^\s*(>=|<=|>|<|=|!=)\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (match === null || !new RegExp(THRESHOLD_PATTERN).test(text)) {
    throw new Error(`'${text}' is not a threshold: write e.g. '> 0', '>= 100' or '> 1%'`);
  }
  return {
    op: match[1] as Comparator,
    value: Number(match[2]),
    percent: match[3] === '%',
    text: text.trim(),
  };
}

/** Whether `value` (of `rows` checked rows, for percent thresholds) matches `threshold`. */
export function matches(threshold: Threshold, value: number, rows: number): boolean {
  const measured = threshold.percent ? (rows === 0 ? 0 : (100 * value) / rows) : value;
  switch (threshold.op) {
    case '>':
      return measured > threshold.value;
    case '>=':
      return measured >= threshold.value;
    case '<':
      return measured < threshold.value;
    case '<=':
      return measured <= threshold.value;
    case '=':
      return measured === threshold.value;
    case '!=':
      return measured !== threshold.value;
  }
}
