/**
 * Every API route, walked without credentials (401 except health and login) and with
 * each role (403 with no data where the role may not use it). Routes are read from the
 * server itself, so a new route is covered without touching this test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, roleAllows } from '../../src/auth/roles.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type ApiHarness, startApi } from './support.ts';

interface RouteInfo {
  method: string;
  url: string;
  capability: string | undefined;
}

const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite')!;

describe('access control on every route', () => {
  let h: ApiHarness;
  const routes: RouteInfo[] = [];

  // The UI's files as in production: their wildcard route must not swallow /api/ URLs.
  const uiRoot = mkdtempSync(path.join(os.tmpdir(), 'updraft-ui-'));
  writeFileSync(path.join(uiRoot, 'index.html'), '<!doctype html><title>Updraft</title>');

  beforeAll(async () => {
    h = await startApi(pglite, undefined, { uiRoot });
    for (const r of listRoutes(h)) routes.push(r);
  });
  afterAll(async () => {
    await h?.close();
    rmSync(uiRoot, { recursive: true, force: true });
  });

  it('answers 404 naming the route to an unknown API URL, and serves the UI beside the API', async () => {
    const unknown = await h.as('viewer', 'GET', '/api/v1/no-such-thing?x=1');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({
      statusCode: 404,
      code: 'not_found',
      message:
        'there is no API route GET /api/v1/no-such-thing (the routes are in /api/v1/openapi.json)',
    });
    const anonymous = await h.app.inject({ method: 'GET', url: '/api/v1/no-such-thing' });
    expect(anonymous.statusCode).toBe(401);
    const page = await h.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>Updraft</title>');
  });

  it('finds the API routes', () => {
    expect(routes.length).toBeGreaterThan(30);
    // Quality, deadline and report routes are walked like the others.
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'GET /api/v1/datasets/:name/quality/runs',
        'GET /api/v1/datasets/:name/versions/:version/quality',
        'GET /api/v1/datasets/:name/quality/results',
        'GET /api/v1/datasets/:name/quality/metrics',
        'GET /api/v1/datasets/:name/quality/history',
        'GET /api/v1/deadline-misses',
        'GET /api/v1/dags/:dagId/deadline-misses',
        'GET /api/v1/reports/operations',
      ]),
    );
    expect(
      routes.filter((r) => r.capability === undefined).map((r) => `${r.method} ${r.url}`),
    ).toEqual([]);
  });

  it('answers 401 without credentials on every route but health and login', async () => {
    const open: string[] = [];
    for (const route of routes) {
      const response = await h.app.inject({
        method: route.method as 'GET',
        url: concrete(route.url),
        payload: bodyFor(route),
      });
      if (response.statusCode !== 401)
        open.push(`${route.method} ${route.url} -> ${response.statusCode}`);
      else
        expect(response.json()).toEqual({
          statusCode: 401,
          code: 'unauthenticated',
          message: expect.any(String),
        });
    }
    expect(open.sort()).toEqual(['POST /api/v1/auth/login -> 400']);
    expect((await h.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('cannot be bypassed by spelling the path differently or by HEAD', async () => {
    expect((await h.app.inject({ method: 'HEAD', url: '/api/v1/dags' })).statusCode).toBe(401);
    for (const url of [
      '/%61pi/v1/dags',
      '/api/v1/%64ags',
      '/api/v1/dags/',
      '/api/v1/dags?x=/health',
      '/api//v1/dags',
    ]) {
      const response = await h.app.inject({ method: 'GET', url });
      expect([401, 404], url).toContain(response.statusCode);
      expect(response.body, url).not.toContain('shop');
    }
  });

  it('answers 401 to a wrong or revoked token and to a forged session cookie', async () => {
    const wrong = await h.app.inject({
      method: 'GET',
      url: '/api/v1/dags',
      headers: { authorization: 'Bearer updr_nope' },
    });
    expect(wrong.statusCode).toBe(401);
    const cookie = await h.app.inject({
      method: 'GET',
      url: '/api/v1/dags',
      headers: { cookie: 'updraft_session=forged' },
    });
    expect(cookie.statusCode).toBe(401);
  });

  for (const role of ROLES) {
    it(`answers 403 with no data to role ${role} where it is not allowed, and lets it through elsewhere`, async () => {
      const refused: string[] = [];
      for (const route of routes) {
        if (route.capability === 'public') continue;
        // An allowed live stream stays open; test/server/live.test.ts covers it.
        if (route.url === '/api/v1/events' && roleAllows(role, 'read')) continue;
        const response = await h.as(role, route.method, concrete(route.url), bodyFor(route));
        const allowed = roleAllows(role, route.capability as never);
        if (allowed) {
          expect(response.statusCode, `${role} ${route.method} ${route.url}`).not.toBe(403);
          expect(response.statusCode, `${role} ${route.method} ${route.url}`).not.toBe(401);
        } else {
          expect(response.statusCode, `${role} ${route.method} ${route.url}`).toBe(403);
          const body = response.json() as Record<string, unknown>;
          expect(Object.keys(body).sort()).toEqual(['code', 'message', 'statusCode']);
          expect(body.message).not.toContain('shop');
          refused.push(`${route.method} ${route.url}`);
        }
      }
      if (role === 'admin') expect(refused).toEqual([]);
      if (role === 'viewer') expect(refused).toContain('POST /api/v1/dags/:dagId/runs');
    });
  }
});

function listRoutes(h: ApiHarness): RouteInfo[] {
  return h.app.apiRoutes.map((r) => ({ method: r.method, url: r.url, capability: r.capability }));
}

/** A URL with its parameters filled in (the DAG exists; runs may not). */
function concrete(url: string): string {
  return url
    .replace(':dagId', 'shop')
    .replace(':runId', 'r1')
    .replace(':taskId', 'extract')
    .replace(':tryNumber', '1')
    .replace(':version', '1')
    .replace(':username', 'viewer-x')
    .replace(':name', 'p1')
    .replace(':id', '999');
}

function bodyFor(route: RouteInfo): object | undefined {
  return ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
}
