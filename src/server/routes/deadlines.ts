/**
 * Missed deadlines (SLAs) of runs and tasks (`deadline_misses`, recorded by the deadline
 * monitor): of every DAG or of one, newest first, each with when it was due, when the
 * late work finished and by how much it was late. The UI marks runs and task instances
 * with them.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { parseSince } from '../../core/duration.ts';
import { listDeadlineMisses } from '../../notify/deadline-misses.ts';
import type { ApiContext } from '../api-context.ts';
import { FieldError } from '../errors.ts';
import { DagParams, DateTime, ErrorBody, Id, literals, Nullable } from '../schemas.ts';

/** A `since` query parameter: a duration back from now or an ISO date. */
export const Since = Type.String({
  minLength: 1,
  maxLength: 40,
  description: 'start of the period: a duration back from now (7d, 24h, 30 days) or an ISO date',
});

/** Parses a `since` query parameter; a bad one is a 400 naming `querystring.since`. */
export function sinceParam(text: string, now = Date.now()): Date {
  try {
    return parseSince(text, now);
  } catch (error) {
    throw new FieldError('querystring.since', (error as Error).message);
  }
}

export const DeadlineMiss = Type.Object({
  dagId: Type.String(),
  runId: Type.String(),
  taskId: Nullable(Type.String({ description: "null: the run's own deadline" })),
  from: literals(['start', 'logical_date'] as const),
  afterMs: Type.Integer({ description: 'the deadline, from `from`' }),
  dueAt: DateTime,
  detectedAt: DateTime,
  finishedAt: Nullable(DateTime),
  lateByMs: Nullable(
    Type.Integer({ description: 'finishedAt − dueAt; null while the work is in progress' }),
  ),
});

const MissesQuery = {
  runId: Type.Optional(Id('only this run')),
  since: Type.Optional(Since),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
};
const AllMissesQuery = Type.Object(
  { dagId: Type.Optional(Id('only this DAG')), ...MissesQuery },
  { additionalProperties: false },
);
const DagMissesQuery = Type.Object(MissesQuery, { additionalProperties: false });

const tags = ['deadlines'];

export const deadlineRoutes: FastifyPluginAsync<ApiContext> = async (app, { ops, store }) => {
  const list = (filter: Static<typeof AllMissesQuery>) =>
    listDeadlineMisses(store.db, {
      dagId: filter.dagId,
      runId: filter.runId,
      since: filter.since === undefined ? undefined : sinceParam(filter.since),
      limit: filter.limit,
    });

  app.get<{ Querystring: Static<typeof AllMissesQuery> }>(
    '/deadline-misses',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Missed run and task deadlines of every DAG, newest first',
        querystring: AllMissesQuery,
        response: { 200: Type.Array(DeadlineMiss), 400: ErrorBody },
      },
    },
    async (request) => list(request.query),
  );

  app.get<{ Params: DagParams; Querystring: Static<typeof DagMissesQuery> }>(
    '/dags/:dagId/deadline-misses',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: "A DAG's missed run and task deadlines, newest first (marks in the Grid)",
        params: DagParams,
        querystring: DagMissesQuery,
        response: { 200: Type.Array(DeadlineMiss), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      await ops.getDag(request.params.dagId);
      return list({ ...request.query, dagId: request.params.dagId });
    },
  );
};
