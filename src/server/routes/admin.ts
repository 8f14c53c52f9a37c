/**
 * Backfills, pools, connections (never their secrets), users, the audit log, version.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ROLES } from '../../auth/roles.ts';
import { connectionTypeOf, redactConnectionUrl } from '../../data/connection-store.ts';
import { connectionFromEnv } from '../../operators/connections.ts';
import type { ApiContext } from '../api-context.ts';
import {
  AuditRecord,
  Backfill,
  Connection,
  DagParams,
  ErrorBody,
  Ok,
  Pool,
  User,
  Version,
} from '../schemas.ts';

const BackfillBody = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 40, description: 'ISO date or date-time' }),
    to: Type.String({ minLength: 1, maxLength: 40, description: 'ISO date or date-time' }),
    reprocess: Type.Optional(
      Type.Union([Type.Literal('none'), Type.Literal('failed'), Type.Literal('all')]),
    ),
    maxActiveRuns: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
const PoolBody = Type.Object(
  {
    slots: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const NewUserBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    role: RoleSchema,
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
const UserPatchBody = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
const AuditQuery = Type.Object(
  {
    username: Type.Optional(Type.String({ maxLength: 64 })),
    action: Type.Optional(Type.String({ maxLength: 64 })),
    beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

export const adminRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const { ops, auth } = ctx;

  // --- backfills ---
  app.post<{ Params: DagParams; Body: Static<typeof BackfillBody> }>(
    '/dags/:dagId/backfills',
    {
      config: { capability: 'operate', audit: 'backfill.create' },
      schema: {
        tags: ['backfills'],
        summary: 'Create runs for every interval in a date range',
        params: DagParams,
        body: BackfillBody,
        response: { 201: Backfill, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const created = await ops.createBackfill(request.params.dagId, request.body);
      request.auditNote = { target: `${created.dagId}/backfill ${created.id}` };
      return reply.code(201).send(created);
    },
  );

  app.get<{ Querystring: { dagId?: string } }>(
    '/backfills',
    {
      config: { capability: 'read' },
      schema: {
        tags: ['backfills'],
        summary: 'Backfills, newest first',
        querystring: Type.Object(
          { dagId: Type.Optional(Type.String({ maxLength: 250 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Backfill) },
      },
    },
    async (request) => ops.listBackfills(request.query.dagId),
  );

  app.post<{ Params: { id: number } }>(
    '/backfills/:id/cancel',
    {
      config: { capability: 'operate', audit: 'backfill.cancel' },
      schema: {
        tags: ['backfills'],
        summary: 'Cancel a backfill (its runs not yet started end as failed)',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: Backfill, 404: ErrorBody },
      },
    },
    async (request) => ops.cancelBackfill(request.params.id),
  );

  // --- pools and connections ---
  app.get(
    '/pools',
    {
      config: { capability: 'read' },
      schema: {
        tags: ['pools'],
        summary: 'Pools with their occupied slots',
        response: { 200: Type.Array(Pool) },
      },
    },
    async () => ops.listPools(),
  );

  app.put<{ Params: { name: string }; Body: Static<typeof PoolBody> }>(
    '/pools/:name',
    {
      config: { capability: 'configure', audit: 'pool.set' },
      schema: {
        tags: ['pools'],
        summary: 'Create or change a pool',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }),
        body: PoolBody,
        response: { 200: Pool, 400: ErrorBody },
      },
    },
    async (request) =>
      ops.setPool(request.params.name, request.body.slots, request.body.description),
  );

  app.get(
    '/connections',
    {
      config: { capability: 'configure' },
      schema: {
        tags: ['connections'],
        summary:
          'Connections (stored, file, and UPDRAFT_CONN_* variables) with their secrets replaced by ***',
        response: { 200: Type.Array(Connection) },
      },
    },
    async () => [...((await ctx.datasets?.listConnections()) ?? []), ...listEnvConnections()],
  );

  // --- users ---
  app.get(
    '/users',
    {
      config: { capability: 'administer' },
      schema: { tags: ['users'], summary: 'Users', response: { 200: Type.Array(User) } },
    },
    async () => auth.users.list(),
  );

  app.post<{ Body: Static<typeof NewUserBody> }>(
    '/users',
    {
      config: { capability: 'administer', audit: 'user.create' },
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        body: NewUserBody,
        response: { 201: User, 400: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const { username, role, password } = request.body;
      request.auditNote = { target: username };
      return reply.code(201).send(await auth.users.create(username, role, password));
    },
  );

  app.patch<{ Params: { username: string }; Body: Static<typeof UserPatchBody> }>(
    '/users/:username',
    {
      config: { capability: 'administer', audit: 'user.update' },
      schema: {
        tags: ['users'],
        summary: "Change a user's role or password (ends the user's sessions)",
        params: UsernameParams,
        body: UserPatchBody,
        response: { 200: User, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const { username } = request.params;
      if (request.body.password !== undefined)
        await auth.users.setPassword(username, request.body.password);
      if (request.body.role !== undefined) await auth.users.setRole(username, request.body.role);
      return auth.users.get(username);
    },
  );

  app.delete<{ Params: { username: string } }>(
    '/users/:username',
    {
      config: { capability: 'administer', audit: 'user.delete' },
      schema: {
        tags: ['users'],
        summary: 'Delete a user with their sessions and tokens',
        params: UsernameParams,
        response: { 200: Ok, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      await auth.users.delete(request.params.username);
      return { ok: true as const };
    },
  );

  // --- audit log and version ---
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    {
      config: { capability: 'configure' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first (page with beforeId)',
        querystring: AuditQuery,
        response: { 200: Type.Array(AuditRecord) },
      },
    },
    async (request) => auth.audit.list(request.query),
  );

  app.get(
    '/version',
    {
      config: { capability: 'read' },
      schema: { tags: ['meta'], summary: 'Updraft version', response: { 200: Version } },
    },
    async () => ({ version: ctx.version, api: 'v1' as const }),
  );
};

/** Connections from `UPDRAFT_CONN_*` variables, with secrets replaced by `***`. */
function listEnvConnections(env: NodeJS.ProcessEnv = process.env): Static<typeof Connection>[] {
  const out: Static<typeof Connection>[] = [];
  for (const variable of Object.keys(env).sort()) {
    const match = /^UPDRAFT_CONN_(.+)$/.exec(variable);
    if (!match?.[1]) continue;
    const name = match[1].toLowerCase();
    let type = 'invalid';
    let url = '<invalid url>';
    try {
      const c = connectionFromEnv(name, env);
      type = connectionTypeOf(name, c.url);
      url = redactConnectionUrl(c.url, type);
    } catch {
      // listed as invalid, without its value
    }
    out.push({ name, type, url, description: null, source: 'env', keyId: null, updatedAt: null });
  }
  return out;
}
