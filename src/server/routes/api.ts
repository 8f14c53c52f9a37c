/**
 * The REST API under `/api/v1`: every route plugin, and the OpenAPI document generated
 * from their schemas at `/api/v1/openapi.json`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { adminRoutes } from './admin.ts';
import { dagRoutes } from './dags.ts';
import { datasetRoutes } from './datasets.ts';
import { eventRoutes } from './events.ts';
import { runRoutes } from './runs.ts';
import { sessionRoutes } from './session.ts';

export const apiRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  await app.register(sessionRoutes, ctx);
  await app.register(dagRoutes, ctx);
  await app.register(runRoutes, ctx);
  await app.register(adminRoutes, ctx);
  await app.register(eventRoutes, ctx);
  if (ctx.datasets) await app.register(datasetRoutes, { datasets: ctx.datasets });
  app.get('/openapi.json', { config: { capability: 'read' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
};
