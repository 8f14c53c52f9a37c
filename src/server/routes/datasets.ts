/**
 * Datasets (the data layer's `DatasetOperations`): list, versions, one version with
 * its manifest (and whether its blocking quality checks passed), lineage, alias
 * history, promote, rollback and approve. Promotion policies are checked by the data
 * layer with the caller's name and role.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { DatasetOperations } from '../../data/dataset-operations.ts';
import type { Actor } from '../../data/promotion-policy.ts';
import { ErrorBody } from '../schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 200, description: 'dataset name' });
export const DatasetParams = Type.Object({ name: Name });
export const VersionParams = Type.Object({ name: Name, version: Type.Integer({ minimum: 1 }) });
const Alias = Type.String({ minLength: 1, maxLength: 100 });
const Reason = Type.Optional(Type.String({ maxLength: 1000 }));
const PromoteBody = Type.Object(
  { version: Type.Integer({ minimum: 1 }), alias: Alias, reason: Reason },
  { additionalProperties: false },
);
const RollbackBody = Type.Object({ alias: Alias, reason: Reason }, { additionalProperties: false });

const VersionSummary = Type.Object({
  dataset: Type.String(),
  version: Type.Integer(),
  rows: Type.Integer(),
  bytes: Type.Integer(),
  files: Type.Integer(),
  aliases: Type.Array(Type.String()),
  producedBy: Type.Object({
    dagId: Type.Union([Type.String(), Type.Null()]),
    runId: Type.Union([Type.String(), Type.Null()]),
    taskId: Type.Union([Type.String(), Type.Null()]),
    tryNumber: Type.Union([Type.Integer(), Type.Null()]),
  }),
  blockingChecksPassed: Type.Union([Type.Boolean(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  deletedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const DatasetSummary = Type.Object({
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  latestVersion: Type.Union([Type.Integer(), Type.Null()]),
  versions: Type.Integer(),
  aliases: Type.Record(Type.String(), Type.Integer()),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  bytes: Type.Union([Type.Integer(), Type.Null()]),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const AliasMove = Type.Object({
  dataset: Type.String(),
  alias: Type.String(),
  fromVersion: Type.Union([Type.Integer(), Type.Null()]),
  toVersion: Type.Integer(),
  actor: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
});
const AliasEvent = Type.Intersect([
  AliasMove,
  Type.Object({
    action: Type.String(),
    actorRole: Type.Union([Type.String(), Type.Null()]),
    at: Type.String({ format: 'date-time' }),
  }),
]);
const Lineage = Type.Object({
  dataset: Type.String(),
  edges: Type.Array(
    Type.Object({
      dagId: Type.String(),
      taskId: Type.String(),
      direction: Type.Union([Type.Literal('read'), Type.Literal('write')]),
      dataset: Type.String(),
      version: Type.Union([Type.Integer(), Type.Null()]),
      runs: Type.Integer(),
    }),
  ),
  upstream: Type.Array(Type.String()),
  downstream: Type.Array(Type.String()),
});

const tags = ['datasets'];

export const datasetRoutes: FastifyPluginAsync<{ datasets: DatasetOperations }> = async (
  app,
  { datasets },
) => {
  app.get(
    '/datasets',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Datasets with their latest version and aliases',
        response: { 200: Type.Array(DatasetSummary) },
      },
    },
    async () => datasets.listDatasets(),
  );

  app.get<{ Params: Static<typeof DatasetParams> }>(
    '/datasets/:name/versions',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Versions of a dataset, newest first',
        params: DatasetParams,
        response: { 200: Type.Array(VersionSummary), 404: ErrorBody },
      },
    },
    async (request) => datasets.listVersions(request.params.name),
  );

  app.get<{ Params: Static<typeof VersionParams> }>(
    '/datasets/:name/versions/:version',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'One version with its manifest (files, schema, producer, inputs)',
        params: VersionParams,
        response: {
          200: Type.Intersect([VersionSummary, Type.Object({ manifest: Type.Unknown() })]),
          404: ErrorBody,
        },
      },
    },
    async (request) => datasets.showVersion(`${request.params.name}@v${request.params.version}`),
  );

  app.get<{ Params: Static<typeof DatasetParams> }>(
    '/datasets/:name/lineage',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Upstream and downstream of a dataset',
        params: DatasetParams,
        response: { 200: Lineage, 404: ErrorBody },
      },
    },
    async (request) => datasets.lineage(request.params.name),
  );

  app.get<{ Params: Static<typeof DatasetParams> }>(
    '/datasets/:name/alias-history',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Alias moves (commit, promote, rollback), newest first',
        params: DatasetParams,
        response: { 200: Type.Array(AliasEvent), 404: ErrorBody },
      },
    },
    async (request) => datasets.aliasHistory(request.params.name),
  );

  app.post<{ Params: Static<typeof DatasetParams>; Body: Static<typeof PromoteBody> }>(
    '/datasets/:name/promote',
    {
      config: { capability: 'operate', audit: 'dataset.promote' },
      schema: {
        tags,
        summary:
          "Point an alias at a version (the alias's policy decides who may and which gates apply)",
        params: DatasetParams,
        body: PromoteBody,
        response: { 200: AliasMove, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { version, alias, reason } = request.body;
      return datasets.promote(request.params.name, version, alias, {
        actor: actorOf(request),
        reason,
      });
    },
  );

  app.post<{ Params: Static<typeof DatasetParams>; Body: Static<typeof RollbackBody> }>(
    '/datasets/:name/rollback',
    {
      config: { capability: 'operate', audit: 'dataset.rollback' },
      schema: {
        tags,
        summary: 'Move an alias back to the version it pointed at before',
        params: DatasetParams,
        body: RollbackBody,
        response: { 200: AliasMove, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) =>
      datasets.rollback(request.params.name, request.body.alias, {
        actor: actorOf(request),
        reason: request.body.reason,
      }),
  );

  app.post<{ Params: Static<typeof DatasetParams>; Body: Static<typeof PromoteBody> }>(
    '/datasets/:name/approve',
    {
      config: { capability: 'configure', audit: 'dataset.approve' },
      schema: {
        tags,
        summary: 'Approve a version for an alias whose policy requires approval',
        params: DatasetParams,
        body: PromoteBody,
        response: { 200: Type.Object({ ok: Type.Literal(true) }), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { version, alias, reason } = request.body;
      await datasets.approve(request.params.name, version, alias, {
        actor: actorOf(request),
        reason,
      });
      return { ok: true as const };
    },
  );
};

function actorOf(request: FastifyRequest): Actor {
  const principal = request.principal!;
  return { name: principal.username, role: principal.role };
}
