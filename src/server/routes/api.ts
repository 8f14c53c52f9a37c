/**
 * The REST API under `/api/v1`: every route plugin, and the OpenAPI document generated
 * from their schemas at `/api/v1/openapi.json`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { adminRoutes } from './admin.ts';
import { dagRoutes } from './dags.ts';
import { datasetRoutes } from './datasets.ts';
import { deadlineRoutes } from './deadlines.ts';
import { eventRoutes } from './events.ts';
import { qualityRoutes } from './quality.ts';
import { reportRoutes } from './reports.ts';
import { runRoutes } from './runs.ts';
import { sessionRoutes } from './session.ts';

export const apiRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  await app.register(sessionRoutes, ctx);
  await app.register(dagRoutes, ctx);
  await app.register(runRoutes, ctx);
  await app.register(adminRoutes, ctx);
  await app.register(eventRoutes, ctx);
  await app.register(deadlineRoutes, ctx);
  await app.register(reportRoutes, ctx);
  if (ctx.datasets) await app.register(datasetRoutes, { datasets: ctx.datasets });
  if (ctx.quality) await app.register(qualityRoutes, { quality: ctx.quality });
  app.get('/openapi.json', { config: { capability: 'read' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
};
