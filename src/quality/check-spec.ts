/**
 * Check definitions: one TypeBox schema, shared by TypeScript pipelines (the `Static`
 * types), YAML validation (the `quality` operator's config schema) and the published
 * JSON Schema. A check is one flat object whose `type` says which fields it uses; the
 * schema types every field, and `validateChecks` (`check-validation.ts`) then says, per
 * type, which fields are required or meaningless — with the dataset, check and field.
 *
 * Vocabulary:
 * - check: one rule over one dataset version (`range` of `amount` within 0..10 000);
 * - measured value: what a check measures (failing rows, a row count, an age, a change);
 * - status: `pass`, `warn`, `error`, or `skipped` (an anomaly check without enough
 *   history); `warn_if` / `error_if` thresholds on the measured value decide it;
 * - blocking: an `error` of a blocking check fails the task (downstream tasks that need
 *   the data do not run) and marks the version as not promotable;
 * - row-level check: one whose failures are rows (they can be quarantined).
 */
import { type Static, type TLiteral, Type } from '@sinclair/typebox';

/** Every check type. */
export const CHECK_TYPES = [
  'schema',
  'row_count',
  'not_null',
  'unique',
  'accepted_values',
  'range',
  'regex',
  'referential',
  'freshness',
  'continuity',
  'duplicate_rows',
  'distribution',
  'custom_sql',
  'vector_dimension',
  'vector_finite',
  'vector_norm',
  'anomaly',
] as const;
export type CheckType = (typeof CHECK_TYPES)[number];

/** Check types whose failures are rows of the dataset (quarantinable). */
export const ROW_LEVEL_TYPES: ReadonlySet<CheckType> = new Set<CheckType>([
  'not_null',
  'unique',
  'accepted_values',
  'range',
  'regex',
  'referential',
  'duplicate_rows',
  'custom_sql',
  'vector_dimension',
  'vector_finite',
  'vector_norm',
]);

export const SEVERITIES = ['warn', 'error'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const GRAINS = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export const DISTRIBUTION_METRICS = ['mean', 'stddev', 'null_rate', 'distinct_count'] as const;
export type DistributionMetric = (typeof DISTRIBUTION_METRICS)[number];
export const REGEX_FORMATS = ['email', 'uuid', 'iso_date', 'iso_timestamp'] as const;

/** `> 10`, `>= 5%`, `= 0`, `!= 3`: a comparison with the measured value (`%`: of the rows). */
export const THRESHOLD_PATTERN = '^\\s*(>=|<=|>|<|=|!=)\\s*-?\\d+(\\.\\d+)?\\s*%?\\s*$';

const threshold = (what: string) =>
  Type.String({
    pattern: THRESHOLD_PATTERN,
    description: `${what}: a comparison with the measured value, e.g. '> 0', '>= 100', '> 1%' (percent of the rows).`,
  });

const literals = <T extends readonly string[]>(values: T, description: string, dflt?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)) as TLiteral<T[number]>[],
    dflt === undefined ? { description } : { description, default: dflt },
  );

const scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

/** One check. Which fields a type uses is in `docs/quality.md` and `check-validation.ts`. */
export const checkSchema = Type.Object(
  {
    type: literals(CHECK_TYPES, 'What the check tests.'),
    id: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_.-]+$',
        description:
          'Identifies the check in results, history and quarantine (default: type and column, e.g. `range.amount`).',
      }),
    ),
    description: Type.Optional(Type.String({ description: 'What the check is for.' })),
    severity: Type.Optional(
      literals(
        SEVERITIES,
        "Status of a failure when no threshold is given (default 'error').",
        'error',
      ),
    ),
    blocking: Type.Optional(
      Type.Boolean({
        description:
          'An error fails the task (downstream tasks that need the data do not run) and blocks promotion of the version (default false).',
      }),
    ),
    warn_if: Type.Optional(threshold('Warn when the measured value matches')),
    error_if: Type.Optional(threshold('Error when the measured value matches')),
    column: Type.Optional(Type.String({ minLength: 1, description: 'The column checked.' })),
    columns: Type.Optional(
      Type.Union(
        [
          Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
          Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 })),
        ],
        {
          description:
            "unique: the key's columns (compound when several). schema: column name -> DuckDB type ('*' for any).",
        },
      ),
    ),
    mode: Type.Optional(
      literals(
        ['exact', 'subset'] as const,
        "schema: 'exact' (no other columns) or 'subset' (default).",
      ),
    ),
    min: Type.Optional(
      Type.Union([Type.Number(), Type.String()], {
        description:
          'range: smallest allowed value (a number, or a date/timestamp as text); row_count: fewest rows; vector_norm: smallest norm.',
      }),
    ),
    max: Type.Optional(
      Type.Union([Type.Number(), Type.String()], {
        description: 'range / row_count / vector_norm: the largest allowed value.',
      }),
    ),
    equal_to: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'row_count: another dataset (an inlet) that must have as many rows.',
      }),
    ),
    max_missing_percent: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100,
        description: 'not_null: percent of nulls allowed (default 0).',
      }),
    ),
    values: Type.Optional(
      Type.Array(scalar, { minItems: 1, description: 'accepted_values: the allowed values.' }),
    ),
    pattern: Type.Optional(
      Type.String({ minLength: 1, description: 'regex: a pattern each value must fully match.' }),
    ),
    format: Type.Optional(literals(REGEX_FORMATS, 'regex: a named pattern instead of `pattern`.')),
    to: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'referential: the referenced dataset (one of the task inlets).',
      }),
    ),
    to_column: Type.Optional(
      Type.String({
        minLength: 1,
        description: "referential: the referenced column (default: the same name as 'column').",
      }),
    ),
    max_age: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })], {
        description: "freshness: the oldest the newest timestamp may be ('6 hours', ms).",
      }),
    ),
    grain: Type.Optional(literals(GRAINS, 'continuity: the step of the time series.')),
    metrics: Type.Optional(
      Type.Array(literals(DISTRIBUTION_METRICS, 'a distribution metric'), {
        minItems: 1,
        description: 'distribution: the metrics compared (default all four).',
      }),
    ),
    max_change: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'distribution: largest relative change of mean, stddev and distinct count, and absolute change of the null rate (default 0.2).',
      }),
    ),
    sql: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'custom_sql: a SELECT returning the failing rows; the checked version is the view `data`, inlets are views named after their datasets.',
      }),
    ),
    dimension: Type.Optional(
      Type.Integer({ minimum: 1, description: 'vector_dimension: the number of elements.' }),
    ),
    metric: Type.Optional(
      Type.String({
        pattern: '^(row_count|(null_rate|sum|mean|distinct_count|min|max)\\([A-Za-z0-9_ ]+\\))$',
        description:
          'anomaly: the metric judged against its history: row_count, null_rate(col), sum(col), mean(col), distinct_count(col), min(col), max(col).',
      }),
    ),
    min_points: Type.Optional(
      Type.Integer({
        minimum: 3,
        description: 'anomaly: history points needed before the check judges (default 7).',
      }),
    ),
    threshold: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description:
          'anomaly: largest robust z-score (|x - median| / (1.4826 MAD)) allowed (default 3.5).',
      }),
    ),
    seasonality: Type.Optional(
      literals(
        ['none', 'weekly'] as const,
        "anomaly: 'weekly' compares with the same weekday only (default 'none').",
      ),
    ),
    lookback: Type.Optional(
      Type.Integer({
        minimum: 3,
        maximum: 1000,
        description: 'anomaly: most history points used (default 90).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A data quality check; `type` says which fields it uses (docs/quality.md).',
  },
);

/** A check as written (before defaults and validation). */
export type CheckSpec = Static<typeof checkSchema>;

/** The `quality` operator's configuration. */
export const qualityConfigSchema = Type.Object(
  {
    dataset: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "The checked dataset reference (`orders`, `orders@staging`, `orders@v3`), one of the task's inlets (default: the only inlet).",
      }),
    ),
    checks: Type.Array(checkSchema, { minItems: 1, description: 'The checks to run.' }),
    metrics: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'Metrics recorded in the history for every version beyond row_count and those anomaly checks use (same syntax as `metric`).',
      }),
    ),
    quarantine: Type.Boolean({
      default: false,
      description:
        'Row-level failures do not fail the task: failing rows go to the quarantine dataset, and the clean rows become a new version of `output` (default false).',
    }),
    quarantineDataset: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Dataset receiving failing rows with `_check_id` and `_reason` (default `<dataset>.quarantine`).',
      }),
    ),
    output: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'With quarantine: the dataset of clean rows (default `<dataset>.clean`).',
      }),
    ),
    memoryLimit: Type.String({
      default: '1GB',
      description: "DuckDB memory limit (default '1GB'); larger data spills to disk.",
    }),
    threads: Type.Optional(
      Type.Integer({ minimum: 1, description: 'DuckDB threads (default: one per core).' }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Runs data quality checks on a dataset version in DuckDB.',
  },
);

export type QualityConfig = Static<typeof qualityConfigSchema>;
