/**
 * `GET /metrics`: the Prometheus text exposition of this process (see `metrics.ts`).
 * Outside `/api/`, like `/health`, so a scraper needs no session; set
 * `UPDRAFT_METRICS_TOKEN` to require `Authorization: Bearer <token>` (Prometheus:
 * `authorization: { credentials: <token> }` in the scrape config).
 */
import type { FastifyPluginAsync } from 'fastify';
import { sameSecret } from '../auth/secrets.ts';

export interface MetricsRouteOptions {
  metrics: { exposition(): Promise<{ contentType: string; body: string }> };
  /** Bearer token required to scrape; default `UPDRAFT_METRICS_TOKEN`, none when unset. */
  token?: string | undefined;
}

/** Registers `GET /metrics`. */
export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, options) => {
  const token = options.token ?? (process.env.UPDRAFT_METRICS_TOKEN || undefined);
  app.get('/metrics', async (request, reply) => {
    if (token !== undefined) {
      const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!sameSecret(given, token)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({
          error: 'unauthenticated',
          message: 'send Authorization: Bearer <UPDRAFT_METRICS_TOKEN>',
        });
      }
    }
    const { contentType, body } = await options.metrics.exposition();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });
};
