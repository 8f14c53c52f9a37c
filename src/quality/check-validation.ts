/**
 * What each check type requires and allows, and the validation of a task's checks
 * against the checked version's columns. Every problem names the dataset, the check
 * (id and position) and the field, and says what to do; all problems are reported at
 * once, as a `TaskFailure` without retry (the data will not fix a wrong definition).
 */
import { didYouMean } from '../core/closest-match.ts';
import { parseDuration } from '../core/duration.ts';
import { TaskFailure } from '../core/errors.ts';
import { type CheckSpec, type CheckType, ROW_LEVEL_TYPES, type Severity } from './check-spec.ts';
import { parseMetric } from './metrics.ts';
import { parseThreshold, type Threshold } from './thresholds.ts';

/** Fields every check may have. */
const COMMON = ['type', 'id', 'description', 'severity', 'blocking', 'warn_if', 'error_if'];

/** Per type: fields it needs, and the other fields it may have. */
const FIELDS: Record<CheckType, { required: string[]; optional: string[] }> = {
  schema: { required: ['columns'], optional: ['mode'] },
  row_count: { required: [], optional: ['min', 'max', 'equal_to'] },
  not_null: { required: ['column'], optional: ['max_missing_percent'] },
  unique: { required: [], optional: ['column', 'columns'] },
  accepted_values: { required: ['column', 'values'], optional: [] },
  range: { required: ['column'], optional: ['min', 'max'] },
  regex: { required: ['column'], optional: ['pattern', 'format'] },
  referential: { required: ['column', 'to'], optional: ['to_column'] },
  freshness: { required: ['column', 'max_age'], optional: [] },
  continuity: { required: ['column', 'grain'], optional: [] },
  duplicate_rows: { required: [], optional: [] },
  distribution: { required: ['column'], optional: ['metrics', 'max_change'] },
  custom_sql: { required: ['sql'], optional: [] },
  vector_dimension: { required: ['column', 'dimension'], optional: [] },
  vector_finite: { required: ['column'], optional: [] },
  vector_norm: { required: ['column'], optional: ['min', 'max'] },
  anomaly: {
    required: ['metric'],
    optional: ['min_points', 'threshold', 'seasonality', 'lookback'],
  },
};

/** A validated check with its defaults. */
export interface Check extends CheckSpec {
  id: string;
  /** Position in the task's `checks`. */
  index: number;
  severity: Severity;
  blocking: boolean;
  warnIf: Threshold | null;
  errorIf: Threshold | null;
  rowLevel: boolean;
}

/** One column of the checked version. */
export interface ColumnInfo {
  name: string;
  type: string;
}

interface Problem {
  check: string;
  field: string | null;
  message: string;
}

/**
 * Validates `specs` for `dataset` with the given columns and inlets; returns the checks
 * with defaults, or throws one `TaskFailure` listing every problem.
 */
export function validateChecks(
  dataset: string,
  specs: readonly CheckSpec[],
  columns: readonly ColumnInfo[],
  inlets: readonly string[],
): Check[] {
  const problems: Problem[] = [];
  const names = columns.map((c) => c.name);
  const ids = new Map<string, number>();
  const checks: Check[] = [];
  specs.forEach((spec, index) => {
    const id = spec.id ?? defaultId(spec);
    const label = `'${id}' (checks[${index}])`;
    const problem = (field: string | null, message: string) =>
      problems.push({ check: label, field, message });
    const previous = ids.get(id);
    if (previous !== undefined) {
      problem('id', `the id is also used by checks[${previous}]: give each check its own id`);
    }
    ids.set(id, index);
    const rules = FIELDS[spec.type];
    for (const field of rules.required) {
      if ((spec as Record<string, unknown>)[field] === undefined)
        problem(field, `is required for a '${spec.type}' check`);
    }
    const allowed = new Set([...COMMON, ...rules.required, ...rules.optional]);
    for (const [field, value] of Object.entries(spec)) {
      if (value !== undefined && !allowed.has(field)) {
        problem(
          field,
          `does not apply to a '${spec.type}' check (its fields: ${[...rules.required, ...rules.optional].join(', ') || 'none'})`,
        );
      }
    }
    const column = (field: string, name: string | undefined) => {
      if (name !== undefined && !names.includes(name)) {
        const hint = didYouMean(name, names, `columns: ${names.join(', ')}`);
        problem(field, `no column '${name}' in dataset '${dataset}' (${hint})`);
      }
    };
    column('column', spec.column);
    if (spec.type === 'unique') {
      if (spec.column === undefined && spec.columns === undefined)
        problem('columns', "a 'unique' check needs 'column' or 'columns'");
      if (spec.columns !== undefined && !Array.isArray(spec.columns))
        problem('columns', "a 'unique' check takes a list of columns");
    }
    if (spec.type === 'schema' && Array.isArray(spec.columns))
      problem('columns', "a 'schema' check takes a map of column name to type");
    if (spec.type === 'unique' && Array.isArray(spec.columns))
      for (const [i, name] of spec.columns.entries()) column(`columns[${i}]`, name);
    if (spec.type === 'regex') {
      if ((spec.pattern === undefined) === (spec.format === undefined))
        problem('pattern', "a 'regex' check needs exactly one of 'pattern' and 'format'");
    }
    if (
      (spec.type === 'range' || spec.type === 'vector_norm') &&
      spec.min === undefined &&
      spec.max === undefined
    )
      problem('min', `a '${spec.type}' check needs 'min', 'max' or both`);
    if (spec.type === 'row_count') {
      if (spec.min === undefined && spec.max === undefined && spec.equal_to === undefined)
        problem('min', "a 'row_count' check needs 'min', 'max' or 'equal_to'");
      for (const field of ['min', 'max'] as const) {
        if (spec[field] !== undefined && typeof spec[field] !== 'number')
          problem(field, 'must be a number of rows');
      }
    }
    if (spec.type === 'vector_norm') {
      for (const field of ['min', 'max'] as const) {
        if (spec[field] !== undefined && typeof spec[field] !== 'number')
          problem(field, 'must be a number');
      }
    }
    for (const field of ['equal_to', 'to'] as const) {
      const ref = spec[field];
      if (ref !== undefined && !inlets.includes(ref))
        problem(
          field,
          `'${ref}' is not one of the task's inlets (${inlets.join(', ') || 'none'}): add it to 'inlets'`,
        );
    }
    if (spec.max_age !== undefined) {
      try {
        parseDuration(spec.max_age);
      } catch (error) {
        problem('max_age', (error as Error).message);
      }
    }
    if (spec.metric !== undefined) {
      const metric = parseMetric(spec.metric);
      if (metric.column !== null) column('metric', metric.column);
    }
    const thresholds = { warn_if: null as Threshold | null, error_if: null as Threshold | null };
    for (const field of ['warn_if', 'error_if'] as const) {
      const text = spec[field];
      if (text === undefined) continue;
      try {
        thresholds[field] = parseThreshold(text);
      } catch (error) {
        problem(field, (error as Error).message);
      }
    }
    checks.push({
      ...spec,
      id,
      index,
      severity: spec.severity ?? 'error',
      blocking: spec.blocking ?? false,
      warnIf: thresholds.warn_if,
      errorIf: thresholds.error_if,
      rowLevel: ROW_LEVEL_TYPES.has(spec.type),
    });
  });
  if (problems.length > 0) {
    throw new TaskFailure(
      `dataset '${dataset}': invalid quality checks:\n${problems
        .map(
          (p) => `  check ${p.check}${p.field === null ? '' : ` field '${p.field}'`}: ${p.message}`,
        )
        .join('\n')}`,
      { retry: false },
    );
  }
  return checks;
}

/** `type.column` (or the type alone, or the key's columns joined with `+`). */
export function defaultId(spec: CheckSpec): string {
  if (spec.column !== undefined) return `${spec.type}.${spec.column}`;
  if (spec.type === 'unique' && Array.isArray(spec.columns))
    return `unique.${spec.columns.join('+')}`;
  if (spec.type === 'anomaly' && spec.metric !== undefined)
    return `anomaly.${spec.metric.replace(/[^A-Za-z0-9_]+/g, '_').replace(/_$/, '')}`;
  return spec.type;
}
