/**
 * Authentication, authorisation, CSRF and audit for every request.
 *
 * onRequest (before the body is read or validated):
 * 1. Who: a bearer token (`Authorization: Bearer updr_...`) or the session cookie.
 * 2. Routes under `/api/` need a principal unless their config says `public`
 *    (login); else 401. Health and the UI's static files live outside `/api/`.
 *    A route that declares no capability is refused (403): forgetting to declare one
 *    cannot expose a route.
 * 3. The principal's role must allow the route's capability; else 403 with no data.
 * 4. A change (POST/PUT/PATCH/DELETE) made with a session cookie must carry the
 *    session's CSRF token in `X-CSRF-Token`; else 403.
 * onSend: routes with an `audit` action get an audit record, whatever the outcome.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Auth } from '../auth/auth.ts';
import { roleAllows } from '../auth/roles.ts';
import { sameSecret } from '../auth/secrets.ts';
import type { RouteAccess } from './api-context.ts';
import type { ErrorBody } from './errors.ts';

export const SESSION_COOKIE = 'updraft_session';
export const CSRF_HEADER = 'x-csrf-token';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** One API route and its access rule (see `app.apiRoutes`). */
export interface ApiRoute {
  method: string;
  url: string;
  capability: RouteAccess['capability'];
  audit: string | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route under `/api/` with its access rule, for tests and documentation. */
    apiRoutes: ApiRoute[];
  }
}

/** Installs the hooks on `app` (call before registering routes). */
export function installAccessHooks(app: FastifyInstance, auth: Auth): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('auditNote', null);
  const table: ApiRoute[] = [];
  app.decorate('apiRoutes', table);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      table.push({
        method,
        url: route.url,
        capability: route.config?.capability,
        audit: route.config?.audit,
      });
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    // The matched route decides, not the raw URL: `/%61pi/v1/dags` routes to `/api/v1/dags`.
    const path = request.routeOptions.url ?? request.url;
    if (!path.startsWith('/api/') && !request.url.startsWith('/api/')) return; // health, UI files
    if (config.capability === 'public') return;
    request.principal = await authenticate(request, auth);
    if (!request.principal) {
      return refuse(
        reply,
        401,
        'unauthenticated',
        'log in or send an API token (Authorization: Bearer ...)',
      );
    }
    const needed = config.capability;
    if (needed === undefined) {
      // Unknown URL: Fastify's 404 handler, or the UI's static files (a wildcard route)
      // that caught an /api/ URL no API route matched.
      if (request.is404) return;
      if (!path.startsWith('/api/')) {
        return refuse(
          reply,
          404,
          'not_found',
          `there is no API route ${request.method} ${request.url.split('?')[0]} (the routes are in /api/v1/openapi.json)`,
        );
      }
      return refuse(reply, 403, 'forbidden', 'this route declares no access rule');
    }
    if (!roleAllows(request.principal.role, needed)) {
      return refuse(
        reply,
        403,
        'forbidden',
        `role '${request.principal.role}' may not do this (needs ${needed})`,
      );
    }
    if (UNSAFE.has(request.method) && request.principal.via === 'session') {
      const sent = request.headers[CSRF_HEADER];
      const expected = request.principal.csrfToken ?? '';
      if (typeof sent !== 'string' || !sameSecret(sent, expected)) {
        return refuse(
          reply,
          403,
          'csrf',
          `missing or wrong ${CSRF_HEADER} header; reload the page`,
        );
      }
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const action = request.routeOptions.config.audit;
    if (!action) return payload;
    const note = request.auditNote;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const target = note?.target ?? (Object.values(params).map(String).join('/') || null);
    const body =
      request.body && typeof request.body === 'object'
        ? (request.body as Record<string, unknown>)
        : {};
    try {
      await auth.audit.record({
        username: note?.username ?? request.principal?.username ?? null,
        via: request.principal?.via ?? 'anonymous',
        action,
        target,
        details: { ...body, ...(note?.details ?? {}) },
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
        outcome: outcomeOf(reply.statusCode, payload),
      });
    } catch (err) {
      request.log.error({ err, action }, 'could not write the audit log');
    }
    return payload;
  });
}

async function authenticate(request: FastifyRequest, auth: Auth) {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ? auth.tokens.resolve(match[1]) : null;
  }
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie ? auth.sessions.resolve(cookie) : null;
}

function refuse(reply: FastifyReply, statusCode: 401 | 403 | 404, code: string, message: string) {
  const body: ErrorBody = { statusCode, code, message };
  return reply.code(statusCode).send(body);
}

/** `ok`, or the error code of the answer (`login_failed`, `params_invalid`, `forbidden`...). */
function outcomeOf(status: number, payload: unknown): string {
  if (status < 400) return 'ok';
  if (typeof payload === 'string') {
    try {
      const code = (JSON.parse(payload) as { code?: unknown }).code;
      if (typeof code === 'string') return code;
    } catch {
      // not JSON: fall back to the status
    }
  }
  return `http_${status}`;
}
