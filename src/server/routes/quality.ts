/**
 * Data quality of a dataset (`QualityOperations`, as `updraft quality results|history`
 * uses them): quality runs per version and run with their status counts, one run's
 * results with each check's definition (thresholds, bounds) and quarantine version,
 * stored results filtered by version, run and status, and metric histories with the
 * points judged anomalous.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../core/errors.ts';
import { CHECK_STATUSES } from '../../quality/check-runner.ts';
import { checkSchema, SEVERITIES } from '../../quality/check-spec.ts';
import type { QualityOperations } from '../../quality/quality-operations.ts';
import { DateTime, ErrorBody, Id, literals, Nullable } from '../schemas.ts';
import { DatasetParams, VersionParams } from './datasets.ts';

const Status = literals(CHECK_STATUSES);
const Counts = Type.Object({
  pass: Type.Integer(),
  warn: Type.Integer(),
  error: Type.Integer(),
  skipped: Type.Integer(),
});
/** What identifies a quality run: the version, and the task attempt that checked it. */
const QualityRunKey = {
  dataset: Type.String(),
  version: Type.Integer(),
  dagId: Type.String(),
  runId: Type.String(),
  taskId: Type.String(),
  tryNumber: Type.Integer(),
  checkedAt: DateTime,
};
const ResultRow = Type.Object({
  ...QualityRunKey,
  checkId: Type.String(),
  type: Type.String(),
  severity: literals(SEVERITIES),
  blocking: Type.Boolean(),
  status: Status,
  value: Nullable(Type.Number({ description: 'the measured value (docs/quality.md, per type)' })),
  failingRows: Nullable(Type.Integer()),
  quarantined: Type.Boolean({
    description: 'the failing rows left the clean output (`quarantine: true`)',
  }),
  message: Type.String(),
  details: Type.Unknown(),
});
const RunSummary = Type.Object({
  ...QualityRunKey,
  counts: Counts,
  blockingPassed: Nullable(Type.Boolean({ description: 'null: no blocking check' })),
});
const ResultDetail = Type.Intersect([
  ResultRow,
  Type.Object({
    check: Nullable(checkSchema),
    quarantine: Nullable(
      Type.Object(
        { dataset: Type.String(), version: Type.Integer() },
        { description: 'the quarantine version holding the failing rows' },
      ),
    ),
  }),
]);
const RunDetail = Type.Intersect([RunSummary, Type.Object({ results: Type.Array(ResultDetail) })]);
const MetricSummary = Type.Object({
  metric: Type.String(),
  points: Type.Integer(),
  anomalies: Type.Integer(),
  latestVersion: Type.Integer(),
});
const MetricPoint = Type.Object({
  version: Type.Integer(),
  value: Type.Number(),
  at: DateTime,
  anomaly: Type.Boolean(),
});

const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 200 });
const RunsQuery = Type.Object(
  { version: Type.Optional(Type.Integer({ minimum: 1 })), limit: Limit },
  { additionalProperties: false },
);
const VersionQualityQuery = Type.Object(
  {
    runId: Type.Optional(
      Id('the DAG run whose check of the version to show (default: the latest)'),
    ),
  },
  { additionalProperties: false },
);
const ResultsQuery = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    runId: Type.Optional(Id('DAG run id')),
    status: Type.Optional(Type.Array(Status, { minItems: 1, description: 'repeat for several' })),
    limit: Limit,
  },
  { additionalProperties: false },
);
const HistoryQuery = Type.Object(
  {
    metric: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'row_count, null_rate(col), sum(col), ... (see …/quality/metrics)',
    }),
    limit: Limit,
  },
  { additionalProperties: false },
);

const tags = ['quality'];

export const qualityRoutes: FastifyPluginAsync<{ quality: QualityOperations }> = async (
  app,
  { quality },
) => {
  app.get<{ Params: Static<typeof DatasetParams>; Querystring: Static<typeof RunsQuery> }>(
    '/datasets/:name/quality/runs',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Quality runs on the dataset (one per version and checking task), newest first',
        params: DatasetParams,
        querystring: RunsQuery,
        response: { 200: Type.Array(RunSummary), 404: ErrorBody },
      },
    },
    async (request) => quality.runs(request.params.name, request.query),
  );

  app.get<{
    Params: Static<typeof VersionParams>;
    Querystring: Static<typeof VersionQualityQuery>;
  }>(
    '/datasets/:name/versions/:version/quality',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary:
          "A version's check results (its latest quality run, or run `runId`'s) with each check's definition and quarantine version",
        params: VersionParams,
        querystring: VersionQualityQuery,
        response: { 200: RunDetail, 404: ErrorBody },
      },
    },
    async (request) =>
      quality.run(request.params.name, {
        version: request.params.version,
        runId: request.query.runId,
      }),
  );

  app.get<{ Params: Static<typeof DatasetParams>; Querystring: Static<typeof ResultsQuery> }>(
    '/datasets/:name/quality/results',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Stored check results, newest first, by version, run and status',
        params: DatasetParams,
        querystring: ResultsQuery,
        response: { 200: Type.Array(ResultRow), 404: ErrorBody },
      },
    },
    async (request) => {
      const { version, runId, status, limit } = request.query;
      return quality.results(request.params.name, { version, runId, statuses: status, limit });
    },
  );

  app.get<{ Params: Static<typeof DatasetParams> }>(
    '/datasets/:name/quality/metrics',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Metrics with a history for the dataset (row_count and those the checks name)',
        params: DatasetParams,
        response: { 200: Type.Array(MetricSummary), 404: ErrorBody },
      },
    },
    async (request) => quality.metrics(request.params.name),
  );

  app.get<{ Params: Static<typeof DatasetParams>; Querystring: Static<typeof HistoryQuery> }>(
    '/datasets/:name/quality/history',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: "A metric's value per version, oldest first, with the points judged anomalous",
        params: DatasetParams,
        querystring: HistoryQuery,
        response: { 200: Type.Array(MetricPoint), 404: ErrorBody },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { metric, limit } = request.query;
      const points = await quality.metricHistory(name, metric, limit);
      if (points.length > 0) return points;
      const known = (await quality.metrics(name)).map((m) => m.metric);
      throw new NotFoundError(
        `dataset '${name}' has no history of metric '${metric}' (${known.length ? `metrics: ${known.join(', ')}` : 'no quality task has checked it yet'})`,
      );
    },
  );
};
