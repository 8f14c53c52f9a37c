/**
 * DAGs: list (filters), detail with the resolved spec, source, grid, next runs,
 * pause/unpause, trigger; import errors.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { RUN_STATES } from '../../core/states.ts';
import { readGrid } from '../../store/queries/grid.ts';
import type { ApiContext } from '../api-context.ts';
import {
  DagDetail,
  DagParams,
  DagSource,
  DagSummary,
  ErrorBody,
  Grid,
  ImportError,
  PlannedRun,
  RunSummary,
} from '../schemas.ts';

/** Largest pipeline source file served (bigger ones are cut, with a note). */
const MAX_SOURCE_BYTES = 1024 * 1024;

const ListQuery = Type.Object(
  {
    tag: Type.Optional(Type.String({ maxLength: 100 })),
    owner: Type.Optional(Type.String({ maxLength: 100 })),
    paused: Type.Optional(Type.Boolean()),
    state: Type.Optional(
      Type.Union(
        RUN_STATES.map((s) => Type.Literal(s)),
        { description: 'state of the latest run' },
      ),
    ),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'text in the id or description' })),
    includeInactive: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
const PatchBody = Type.Object({ isPaused: Type.Boolean() }, { additionalProperties: false });
const TriggerBody = Type.Object(
  {
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    runId: Type.Optional(Type.String({ minLength: 1, maxLength: 250 })),
    logicalDate: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
const GridQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 200, default: 25 }) },
  { additionalProperties: false },
);
const NextRunsQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ format: 'date-time' })),
    count: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
  },
  { additionalProperties: false },
);

const tags = ['dags'];

export const dagRoutes: FastifyPluginAsync<ApiContext> = async (app, { ops, store }) => {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/dags',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'List DAGs (active ones unless includeInactive)',
        querystring: ListQuery,
        response: { 200: Type.Array(DagSummary) },
      },
    },
    async (request) => {
      const f = request.query;
      const q = f.q?.toLowerCase();
      const dags = await ops.listDags({ tag: f.tag, paused: f.paused });
      return dags.filter(
        (d) =>
          (f.includeInactive || d.isActive) &&
          (!f.owner || d.owner === f.owner) &&
          (!f.state || d.recentRuns[0]?.state === f.state) &&
          (!q ||
            d.dagId.toLowerCase().includes(q) ||
            (d.description ?? '').toLowerCase().includes(q)),
      );
    },
  );

  app.get(
    '/import-errors',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Pipeline files that failed to load, with file, line and field',
        response: { 200: Type.Array(ImportError) },
      },
    },
    async () => ops.listImportErrors(),
  );

  app.get<{ Params: DagParams }>(
    '/dags/:dagId',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'A DAG with its resolved spec',
        params: DagParams,
        response: { 200: DagDetail, 404: ErrorBody },
      },
    },
    async (request) => ops.getDag(request.params.dagId),
  );

  app.get<{ Params: DagParams }>(
    '/dags/:dagId/source',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'The pipeline file that defines the DAG',
        params: DagParams,
        response: { 200: DagSource, 404: ErrorBody },
      },
    },
    async (request) => {
      const dag = await ops.getDag(request.params.dagId);
      const handle = await fs.open(dag.fileloc, 'r').catch(() => null);
      let code = `// ${dag.fileloc} can no longer be read`;
      if (handle) {
        try {
          const buffer = Buffer.alloc(MAX_SOURCE_BYTES);
          const { bytesRead } = await handle.read(buffer, 0, MAX_SOURCE_BYTES, 0);
          code = buffer.subarray(0, bytesRead).toString('utf8');
          if (bytesRead === MAX_SOURCE_BYTES) code += '\n// ... (cut at 1 MiB)';
        } finally {
          await handle.close();
        }
      }
      const ext = path.extname(dag.fileloc).toLowerCase();
      const language =
        ext === '.ts' || ext === '.mts' || ext === '.cts'
          ? ('typescript' as const)
          : ext === '.js' || ext === '.mjs' || ext === '.cjs'
            ? ('javascript' as const)
            : ext === '.yaml' || ext === '.yml'
              ? ('yaml' as const)
              : ('text' as const);
      return { dagId: dag.dagId, fileloc: dag.fileloc, language, code };
    },
  );

  app.get<{ Params: DagParams; Querystring: Static<typeof GridQuery> }>(
    '/dags/:dagId/grid',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Runs × tasks states of the latest runs (the Grid view)',
        params: DagParams,
        querystring: GridQuery,
        response: { 200: Grid, 404: ErrorBody },
      },
    },
    async (request) => {
      const dag = await ops.getDag(request.params.dagId);
      return readGrid(store.db, dag.spec, request.query.limit);
    },
  );

  app.get<{ Params: DagParams; Querystring: Static<typeof NextRunsQuery> }>(
    '/dags/:dagId/next-runs',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'The next runs exactly as the scheduler will create them',
        params: DagParams,
        querystring: NextRunsQuery,
        response: { 200: Type.Array(PlannedRun), 404: ErrorBody },
      },
    },
    async (request) =>
      ops.nextRuns(request.params.dagId, {
        after: request.query.after,
        count: request.query.count,
      }),
  );

  app.patch<{ Params: DagParams; Body: Static<typeof PatchBody> }>(
    '/dags/:dagId',
    {
      config: { capability: 'operate', audit: 'dag.pause' },
      schema: {
        tags,
        summary: 'Pause or unpause a DAG',
        params: DagParams,
        body: PatchBody,
        response: { 200: DagDetail, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      await ops.setPaused(request.params.dagId, request.body.isPaused);
      return ops.getDag(request.params.dagId);
    },
  );

  app.post<{ Params: DagParams; Body: Static<typeof TriggerBody> }>(
    '/dags/:dagId/runs',
    {
      config: { capability: 'operate', audit: 'dag.trigger' },
      schema: {
        tags,
        summary: "Trigger a run; params are validated against the DAG's params schema",
        params: DagParams,
        body: TriggerBody,
        response: { 201: RunSummary, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const run = await ops.triggerRun(request.params.dagId, request.body);
      request.auditNote = { target: `${run.dagId}/${run.runId}` };
      return reply.code(201).send(run);
    },
  );
};
