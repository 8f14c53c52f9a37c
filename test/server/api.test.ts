/**
 * The REST API against a running engine (scheduler, workers, store) on every backend:
 * successes, 400 naming the field, sessions and CSRF, tokens, audit, live events, logs,
 * the OpenAPI document and the security headers.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { healthSource } from '../../src/server/health-source.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type ApiHarness, login, PASSWORD, startApi } from './support.ts';

for (const backend of STORE_BACKENDS) {
  describe(`REST API on ${backend.name}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await startApi(backend);
    });
    afterAll(async () => h?.close());

    it('lists, filters and shows DAGs with their source, grid and import errors', async () => {
      const list = await h.as('viewer', 'GET', '/api/v1/dags?tag=sales&owner=data-eng&q=ORDERS');
      expect(list.statusCode).toBe(200);
      expect(list.json().map((d: { dagId: string }) => d.dagId)).toEqual(['shop']);
      expect((await h.as('viewer', 'GET', '/api/v1/dags?tag=nope')).json()).toEqual([]);
      const detail = (await h.as('viewer', 'GET', '/api/v1/dags/shop')).json();
      expect(detail.spec.tasks.map((t: { taskId: string }) => t.taskId)).toEqual([
        'extract',
        'transform.clean',
        'report',
      ]);
      const source = (await h.as('viewer', 'GET', '/api/v1/dags/shop/source')).json();
      expect(source).toMatchObject({ language: 'typescript' });
      expect(source.code).toContain("id: 'shop'");
      expect((await h.as('viewer', 'GET', '/api/v1/import-errors')).json()).toEqual([]);
      const missing = await h.as('viewer', 'GET', '/api/v1/dags/shpo');
      expect(missing.statusCode).toBe(404);
      expect(missing.json().message).toContain("did you mean 'shop'");
    });

    it('answers 400 naming the field for bad requests', async () => {
      const cases: [string, string, unknown, string][] = [
        ['POST', '/api/v1/dags/shop/runs', { params: { n: 0 } }, 'params.n'],
        ['POST', '/api/v1/dags/shop/runs', { params: {}, colour: 'red' }, 'body.colour'],
        ['PATCH', '/api/v1/dags/shop', { isPaused: 'yes' }, 'body.isPaused'],
        ['POST', '/api/v1/dags/shop/runs/x/mark', { state: 'done' }, 'body.state'],
        ['GET', '/api/v1/dags/shop/grid?limit=0', undefined, 'querystring.limit'],
        ['PUT', '/api/v1/pools/p1', { slots: -1 }, 'body.slots'],
        [
          'POST',
          '/api/v1/users',
          { username: 'x', role: 'root', password: 'long enough pw' },
          'body.role',
        ],
        ['POST', '/api/v1/dags/shop/backfills', { to: '2026-01-01' }, 'body.from'],
      ];
      for (const [method, url, body, field] of cases) {
        const response = await h.as('admin', method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(400);
        expect(response.json().field, `${method} ${url}`).toBe(field);
        expect(response.json().message).toContain(field.split('.').at(-1));
      }
    });

    it('triggers a run with params, follows it live, reads its logs, clears a task and marks', async () => {
      const events = await openEvents(h, '/api/v1/events?dagId=shop');
      const trigger = await h.as('user', 'POST', '/api/v1/dags/shop/runs', {
        params: { n: 3 },
        runId: 'r1',
      });
      expect(trigger.statusCode).toBe(201);
      expect(trigger.json()).toMatchObject({ runId: 'r1', params: { n: 3 }, runType: 'manual' });
      await h.rt.waitForRun('shop', 'r1');
      await events.waitFor((e) => e.type === 'run' && e.runId === 'r1' && e.state === 'success');
      expect(
        events.seen.some(
          (e) => e.type === 'task' && e.taskId === 'extract' && e.state === 'success',
        ),
      ).toBe(true);
      events.close();

      const grid = (await h.as('viewer', 'GET', '/api/v1/dags/shop/grid')).json();
      expect(grid.runs.map((r: { runId: string }) => r.runId)).toEqual(['r1']);
      expect(grid.states).toEqual([['success', 'success', 'success']]);

      const ti = (await h.as('viewer', 'GET', '/api/v1/dags/shop/runs/r1/tasks/extract')).json();
      expect(ti.attempts).toHaveLength(1);
      expect(ti.attempts[0].logPath).toBeUndefined();
      const log = (
        await h.as('viewer', 'GET', '/api/v1/dags/shop/runs/r1/tasks/extract/logs/1')
      ).json();
      expect(log.lines.some((l: string) => l.includes('extracting'))).toBe(true);
      expect(log.nextOffset).toBe(log.size);
      const tail = (
        await h.as(
          'viewer',
          'GET',
          `/api/v1/dags/shop/runs/r1/tasks/extract/logs/1?offset=${log.nextOffset}`,
        )
      ).json();
      expect(tail.lines).toEqual([]);
      const download = await h.as(
        'viewer',
        'GET',
        '/api/v1/dags/shop/runs/r1/tasks/extract/logs/1/download',
      );
      expect(download.headers['content-disposition']).toContain('attachment');
      expect(download.body).toContain('extracting');
      const follow = await openEvents(h, '/api/v1/dags/shop/runs/r1/tasks/extract/logs/1/follow');
      await follow.waitFor((e) => e.event === 'end');
      expect(follow.seen.some((e) => e.event === 'lines')).toBe(true);
      follow.close();

      const cleared = await h.as('user', 'POST', '/api/v1/dags/shop/runs/r1/clear', {
        taskIds: ['extract'],
        downstream: true,
      });
      expect(cleared.json().cleared.sort()).toEqual(['extract', 'report', 'transform.clean']);
      const done = await h.rt.waitForRun('shop', 'r1');
      expect(done.tasks.find((t) => t.taskId === 'extract')?.tryNumber).toBe(2);
      const marked = await h.as('op', 'POST', '/api/v1/dags/shop/runs/r1/tasks/report/mark', {
        state: 'failed',
      });
      expect(marked.json().state).toBe('failed');
      const audit = (await h.as('admin', 'GET', '/api/v1/audit?limit=10')).json();
      expect(
        audit
          .slice(0, 3)
          .map((a: { action: string; username: string; target: string }) => [
            a.action,
            a.username,
            a.target,
          ]),
      ).toEqual([
        ['task.mark', 'op', 'shop/r1/report'],
        ['run.clear', 'user', 'shop/r1'],
        ['dag.trigger', 'user', 'shop/r1'],
      ]);
      expect(audit[0]).toMatchObject({
        via: 'token',
        ip: '127.0.0.1',
        outcome: 'ok',
        details: { state: 'failed' },
      });
    });

    it('pauses, backfills, sets pools, manages users and lists connections without secrets', async () => {
      const paused = await h.as('user', 'PATCH', '/api/v1/dags/shop', { isPaused: true });
      expect(paused.json().isPaused).toBe(true);
      expect(
        (await h.as('user', 'PATCH', '/api/v1/dags/shop', { isPaused: false })).json().isPaused,
      ).toBe(false);
      const backfill = await h.as('user', 'POST', '/api/v1/dags/shop/backfills', {
        from: '2026-01-01',
        to: '2026-01-02',
      });
      expect(backfill.statusCode).toBe(409);
      expect(backfill.json().message).toContain('no schedule');
      expect((await h.as('op', 'PUT', '/api/v1/pools/etl', { slots: 4 })).json()).toMatchObject({
        name: 'etl',
        slots: 4,
      });
      process.env.UPDRAFT_CONN_WAREHOUSE = 'postgres://etl:s3cret@db:5432/analytics';
      try {
        const connections = await h.as('op', 'GET', '/api/v1/connections');
        expect(connections.json()).toContainEqual({
          name: 'warehouse',
          type: 'postgres',
          url: 'postgres://etl:***@db:5432/analytics',
          description: null,
          source: 'env',
          keyId: null,
          updatedAt: null,
        });
        expect(connections.body).not.toContain('s3cret');
      } finally {
        delete process.env.UPDRAFT_CONN_WAREHOUSE;
      }
      const created = await h.as('admin', 'POST', '/api/v1/users', {
        username: 'eve',
        role: 'viewer',
        password: 'eve password 1',
      });
      expect(created.statusCode).toBe(201);
      expect(created.body).not.toContain('password_hash');
      expect(
        (
          await h.as('admin', 'POST', '/api/v1/users', {
            username: 'eve',
            role: 'viewer',
            password: 'eve password 1',
          })
        ).statusCode,
      ).toBe(409);
      expect((await h.as('admin', 'PATCH', '/api/v1/users/eve', { role: 'op' })).json().role).toBe(
        'op',
      );
      expect((await h.as('admin', 'DELETE', '/api/v1/users/eve')).statusCode).toBe(200);
      const audit = (await h.as('admin', 'GET', '/api/v1/audit?action=user.create')).json();
      expect(audit[0]).toMatchObject({
        target: 'eve',
        details: { password: '***', role: 'viewer' },
      });
    });

    it('sessions: HttpOnly SameSite cookie, rotated at login, CSRF on changes, ended by logout and password change', async () => {
      const bad = await login(h.app, 'op', 'wrong password!');
      expect(bad.response.statusCode).toBe(401);
      expect(bad.response.json().code).toBe('login_failed');
      const a = await login(h.app, 'op');
      expect(a.response.statusCode).toBe(200);
      const setCookie = String(a.response.headers['set-cookie']);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      expect(setCookie).not.toMatch(/Secure/); // plain HTTP here; behind TLS it is set
      const asSession = (
        cookie: string,
        method: string,
        url: string,
        body?: object,
        csrf?: string,
      ) =>
        h.app.inject({
          method: method as 'GET',
          url,
          headers: { cookie, ...(csrf ? { 'x-csrf-token': csrf } : {}) },
          ...(body ? { payload: body } : {}),
        });
      expect((await asSession(a.cookie, 'GET', '/api/v1/auth/me')).json()).toMatchObject({
        username: 'op',
        via: 'session',
      });
      const noCsrf = await asSession(a.cookie, 'PATCH', '/api/v1/dags/shop', { isPaused: false });
      expect(noCsrf.statusCode).toBe(403);
      expect(noCsrf.json().code).toBe('csrf');
      const wrongCsrf = await asSession(
        a.cookie,
        'PATCH',
        '/api/v1/dags/shop',
        { isPaused: false },
        'x'.repeat(43),
      );
      expect(wrongCsrf.statusCode).toBe(403);
      expect(
        (await asSession(a.cookie, 'PATCH', '/api/v1/dags/shop', { isPaused: false }, a.csrf))
          .statusCode,
      ).toBe(200);

      // Login again from the same browser: a new session id, the old one is gone.
      const again = await h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { cookie: a.cookie },
        payload: { username: 'op', password: PASSWORD },
      });
      const rotated = `updraft_session=${again.cookies.find((c) => c.name === 'updraft_session')?.value}`;
      expect(rotated).not.toBe(a.cookie);
      expect((await asSession(a.cookie, 'GET', '/api/v1/auth/me')).statusCode).toBe(401);
      expect((await asSession(rotated, 'GET', '/api/v1/auth/me')).statusCode).toBe(200);

      // Password change ends every session; the browser that made it gets a new one.
      const other = await login(h.app, 'op');
      const csrf = (await asSession(rotated, 'GET', '/api/v1/auth/me')).json().csrfToken;
      const changed = await asSession(
        rotated,
        'POST',
        '/api/v1/auth/password',
        { currentPassword: PASSWORD, newPassword: 'a new password 2' },
        csrf,
      );
      expect(changed.statusCode).toBe(200);
      const fresh = `updraft_session=${changed.cookies.find((c) => c.name === 'updraft_session')?.value}`;
      expect((await asSession(other.cookie, 'GET', '/api/v1/auth/me')).statusCode).toBe(401);
      expect((await asSession(rotated, 'GET', '/api/v1/auth/me')).statusCode).toBe(401);
      const freshMe = await asSession(fresh, 'GET', '/api/v1/auth/me');
      expect(freshMe.statusCode).toBe(200);
      const out = await asSession(
        fresh,
        'POST',
        '/api/v1/auth/logout',
        {},
        freshMe.json().csrfToken,
      );
      expect(out.statusCode).toBe(200);
      expect((await asSession(fresh, 'GET', '/api/v1/auth/me')).statusCode).toBe(401);
      await h.auth.users.setPassword('op', PASSWORD);
    });

    it('throttles password guessing and sets Secure cookies behind a TLS proxy', async () => {
      for (let i = 0; i < 10; i++)
        expect((await login(h.app, 'user', 'not the password')).response.statusCode).toBe(401);
      const throttled = await login(h.app, 'user');
      expect(throttled.response.statusCode).toBe(429);
      expect(throttled.response.headers['retry-after']).toBeDefined();
      const proxied = await buildServer({
        version: 't',
        health: healthSource(h.rt.runtime.store, null),
        api: { ops: h.rt.runtime.ops, store: h.rt.runtime.store, auth: h.auth, version: 't' },
        trustProxy: true,
      });
      try {
        const response = await proxied.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' },
          payload: { username: 'user', password: PASSWORD },
        });
        expect(response.statusCode).toBe(200);
        expect(String(response.headers['set-cookie'])).toMatch(/; Secure/);
        const audit = await h.auth.audit.list({ action: 'auth.login', limit: 1 });
        expect(audit[0]).toMatchObject({
          username: 'user',
          via: 'session',
          ip: '203.0.113.9',
          outcome: 'ok',
        });
      } finally {
        await proxied.close();
      }
    });

    it('API tokens: created once, listed without the secret, revoked', async () => {
      const created = (await h.as('viewer', 'POST', '/api/v1/tokens', { name: 'ci' })).json();
      expect(created.token).toMatch(/^updr_/);
      const list = await h.as('viewer', 'GET', '/api/v1/tokens');
      expect(list.body).not.toContain(created.token);
      const bearer = { authorization: `Bearer ${created.token}` };
      expect(
        (await h.app.inject({ method: 'GET', url: '/api/v1/version', headers: bearer })).json(),
      ).toEqual({ version: '9.9.9', api: 'v1' });
      expect((await h.as('viewer', 'DELETE', `/api/v1/tokens/${created.id}`)).statusCode).toBe(200);
      expect(
        (await h.app.inject({ method: 'GET', url: '/api/v1/version', headers: bearer })).statusCode,
      ).toBe(401);
    });

    it('publishes OpenAPI from the route schemas and sends security headers with a CSP without inline script', async () => {
      const doc = (await h.as('viewer', 'GET', '/api/v1/openapi.json')).json();
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toContain('/api/v1/dags/{dagId}/runs');
      expect(
        doc.paths['/api/v1/dags/{dagId}/runs'].post.requestBody.content['application/json'].schema
          .properties,
      ).toHaveProperty('params');
      const page = await h.app.inject({ method: 'GET', url: '/' });
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
    });
  });
}

interface SeenEvent {
  event: string;
  type?: string;
  runId?: string;
  taskId?: string;
  state?: string;
}

/** Opens a server-sent event stream on a listening copy of the app, with the admin token. */
async function openEvents(h: ApiHarness, url: string) {
  if (!h.app.server.listening) await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address() as { port: number };
  const seen: SeenEvent[] = [];
  const waiters: { match: (e: SeenEvent) => boolean; resolve: () => void }[] = [];
  let buffer = '';
  const req = http.get(
    {
      host: '127.0.0.1',
      port: address.port,
      path: url,
      headers: { authorization: `Bearer ${h.tokens.admin}` },
    },
    (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!event || data === undefined) continue;
          const parsed = JSON.parse(data) as unknown;
          const items = Array.isArray(parsed) ? (parsed as object[]) : [parsed as object];
          for (const item of items) {
            const e = { event, ...item } as SeenEvent;
            seen.push(e);
            for (const w of waiters.filter((x) => x.match(e))) w.resolve();
          }
        }
      });
    },
  );
  req.on('error', () => undefined);
  return {
    seen,
    waitFor(match: (e: SeenEvent) => boolean, timeoutMs = 20_000) {
      if (seen.some(match)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching event; seen ${JSON.stringify(seen)}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close: () => req.destroy(),
  };
}
