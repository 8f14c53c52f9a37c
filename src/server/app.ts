/**
 * The HTTP server of `updraft standalone`: a Fastify app assembled from route plugins.
 *
 * Today it serves `GET /health`. The REST API arrives as one more plugin registered
 * under `/api/v1`, behind an authentication hook that covers every route but health
 * and login; the UI as a static plugin. Each plugin gets what it needs through its
 * options, never through globals.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type Logger, silentLogger } from '../observability/logger.ts';
import { type HealthSource, healthRoutes } from './routes/health.ts';

export interface ServerOptions {
  /** Updraft version (reported by `/health`). */
  version: string;
  health: HealthSource;
  /** How long `/health` waits for the store before answering 503 (default 2000 ms). */
  storeTimeoutMs?: number;
  /** Request and error logs go here; none when omitted. */
  log?: Logger;
}

/** Builds the app with all routes registered, not yet listening (use `inject` in tests). */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = options.log ?? silentLogger();
  const app = Fastify({
    loggerInstance,
    // Probes hit /health every few seconds: no log line per request.
    logController: new Fastify.LogController({ disableRequestLogging: true }),
  });
  await app.register(healthRoutes, {
    version: options.version,
    source: options.health,
    storeTimeoutMs: options.storeTimeoutMs,
  });
  return app;
}

export interface HttpServer {
  /** Base URL, e.g. `http://localhost:8080`. */
  readonly url: string;
  /** Stops accepting connections and waits for requests in flight. */
  close(): Promise<void>;
}

/**
 * Builds the app and listens.
 *
 * @param options.port TCP port (0 picks a free one)
 * @param options.host interface to bind (default `0.0.0.0`, all of them)
 */
export async function startHttpServer(
  options: ServerOptions & { port: number; host?: string },
): Promise<HttpServer> {
  const app = await buildServer(options);
  const host = options.host ?? '0.0.0.0';
  await app.listen({ port: options.port, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return { url: `http://${shownHost}:${port}`, close: () => app.close() };
}
