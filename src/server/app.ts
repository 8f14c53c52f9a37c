/**
 * The HTTP server of `updraft standalone`: a Fastify app assembled from route plugins.
 *
 * - `GET /health`: open to everyone (probes).
 * - `/api/v1/...`: the REST API (`routes/api.ts`) when `api` is given; every route but
 *   login needs a session or an API token, and a role allowed to use it
 *   (`access-hooks.ts`); changes are written to the audit log.
 * - `/`: the web UI (static files from `dist/ui`).
 *
 * Every response carries security headers and a Content-Security-Policy without inline
 * script. Each plugin gets what it needs through its options, never through globals.
 */
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type Logger, silentLogger } from '../observability/logger.ts';
import { type MetricsRouteOptions, metricsRoutes } from '../observability/metrics-plugin.ts';
import { installAccessHooks } from './access-hooks.ts';
import type { ApiContext } from './api-context.ts';
import { installErrorHandler } from './errors.ts';
import { apiRoutes } from './routes/api.ts';
import { type HealthSource, healthRoutes } from './routes/health.ts';
import { uiRoutes } from './routes/ui.ts';

export interface ServerOptions {
  /** Updraft version (reported by `/health`). */
  version: string;
  health: HealthSource;
  /** How long `/health` waits for the store before answering 503 (default 2000 ms). */
  storeTimeoutMs?: number;
  /** Request and error logs go here; none when omitted. */
  log?: Logger;
  /** Prometheus metrics served at `/metrics` (a process with a scheduler); none when omitted. */
  metrics?: MetricsRouteOptions['metrics'] | null;
  /** The REST API and UI; without it only `/health` is served. */
  api?: ApiContext;
  /** Folder of the built UI (default `dist/ui` of this package). */
  uiRoot?: string;
  /**
   * Trust `X-Forwarded-*` from a reverse proxy (TLS termination), so cookies get
   * `Secure` and the audit log the client's address. Default false.
   */
  trustProxy?: boolean;
}

/** Builds the app with all routes registered, not yet listening (use `inject` in tests). */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = options.log ?? silentLogger();
  const app = Fastify({
    loggerInstance,
    // Probes hit /health every few seconds: no log line per request.
    logController: new Fastify.LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy ?? false,
    // Live event streams never go idle: close them too when the server stops.
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    ajv: {
      // Unknown fields are an error naming the field, not silently dropped.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true },
    },
  });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Plain HTTP on localhost is the default setup; HSTS only makes sense behind TLS.
    strictTransportSecurity: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  installErrorHandler(app);
  await app.register(healthRoutes, {
    version: options.version,
    source: options.health,
    storeTimeoutMs: options.storeTimeoutMs,
  });
  if (options.metrics) await app.register(metricsRoutes, { metrics: options.metrics });
  if (options.api) {
    await app.register(fastifyCookie);
    await app.register(fastifySwagger, {
      openapi: {
        info: {
          title: 'Updraft REST API',
          version: options.version,
          description:
            'Every route but /api/v1/auth/login needs a session cookie (with X-CSRF-Token on changes) or `Authorization: Bearer <API token>`.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer' },
            session: { type: 'apiKey', in: 'cookie', name: 'updraft_session' },
          },
        },
        security: [{ bearer: [] }, { session: [] }],
      },
    });
    installAccessHooks(app, options.api.auth);
    const api = options.api;
    await app.register(async (scope) => apiRoutes(scope, api), { prefix: '/api/v1' });
    await app.register(uiRoutes, { root: options.uiRoot });
  }
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
