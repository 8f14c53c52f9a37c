/**
 * The operations report (`Operations.operationsReport`, as `updraft report` prints it):
 * per DAG and overall, runs, success rate, mean time to recover, deadline misses, the
 * daily duration trend, rows written and quality failures of a period.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { FieldError } from '../errors.ts';
import { DateTime, ErrorBody, Nullable } from '../schemas.ts';
import { Since, sinceParam } from './deadlines.ts';

const Figures = Type.Object({
  dagId: Nullable(Type.String({ description: 'null: every DAG' })),
  runs: Type.Integer({ description: 'runs that finished in the period' }),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  successRate: Nullable(Type.Number({ description: 'succeeded / runs (0..1)' })),
  meanTimeToRecoverMs: Nullable(
    Type.Number({ description: "from a failed run's end to the end of the next success" }),
  ),
  recoveries: Type.Integer(),
  deadlineMisses: Type.Integer(),
  meanDurationMs: Nullable(Type.Number()),
  durationTrend: Type.Array(
    Type.Object({
      day: Type.String({ description: 'UTC day, YYYY-MM-DD' }),
      runs: Type.Integer(),
      meanDurationMs: Type.Number(),
    }),
  ),
  rowsWritten: Type.Number(),
  qualityFailures: Type.Integer({ description: 'check results with status warn or error' }),
});
const Report = Type.Object({
  since: DateTime,
  until: DateTime,
  overall: Figures,
  dags: Type.Array(Figures, { description: 'DAGs with activity in the period, by id' }),
});
const ReportQuery = Type.Object(
  {
    since: Type.String({ ...Since, default: '7d' }),
    until: Type.Optional(
      Type.String({ format: 'date-time', description: 'end of the period (default now)' }),
    ),
  },
  { additionalProperties: false },
);

export const reportRoutes: FastifyPluginAsync<ApiContext> = async (app, { ops }) => {
  app.get<{ Querystring: Static<typeof ReportQuery> }>(
    '/reports/operations',
    {
      config: { capability: 'read' },
      schema: {
        tags: ['reports'],
        summary:
          'The operations report of a period: runs, success rate, MTTR, deadline misses, duration trend, rows written, quality failures',
        querystring: ReportQuery,
        response: { 200: Report, 400: ErrorBody },
      },
    },
    async (request) => {
      const { until } = request.query;
      const since = sinceParam(request.query.since);
      if (until !== undefined && Date.parse(until) <= since.getTime())
        throw new FieldError('querystring.until', `must be after since (${since.toISOString()})`);
      return ops.operationsReport({ since: since.toISOString(), until });
    },
  );
};
