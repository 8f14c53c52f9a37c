import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, startHttpServer } from '../../src/server/app.ts';
import { healthSource } from '../../src/server/health-source.ts';
import type { HealthSource } from '../../src/server/routes/health.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite')!;
const postgres = STORE_BACKENDS.find((b) => b.name === 'postgres');

let testStore: TestStore;

beforeAll(async () => {
  testStore = await pglite.open();
});

afterAll(async () => {
  await testStore?.close();
});

describe('GET /health', () => {
  it('answers 200 with version, scheduler and store when the store answers', async () => {
    const lastTickAt = Date.parse('2024-05-01T02:00:00Z');
    const scheduler = {
      getStatus: () => ({ running: true, lastTickAt, ticks: 3, inFlight: 0 }),
    };
    const app = await buildServer({
      version: '1.2.3',
      health: healthSource(testStore.store, scheduler, () => ({
        name: 'local',
        slots: 4,
        inFlight: 1,
      })),
    });
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'ok',
      version: '1.2.3',
      scheduler: { running: true, lastHeartbeat: '2024-05-01T02:00:00.000Z' },
      executor: { name: 'local', slots: 4, inFlight: 1 },
      store: 'pglite',
    });
    await app.close();
  });

  it('reports no scheduler in a process that runs none', async () => {
    const app = await buildServer({ version: '1', health: healthSource(testStore.store, null) });
    const body = (await app.inject({ method: 'GET', url: '/health' })).json();
    expect(body.scheduler).toEqual({ running: false, lastHeartbeat: null });
    expect(body.executor).toBeNull();
    await app.close();
  });

  it.skipIf(!postgres)('answers 503 with the reason when the store fails', async () => {
    // A PostgreSQL store whose connection pool has been shut down: every query fails.
    const other = await postgres!.open();
    const source = healthSource(other.store, null);
    await other.close();
    const app = await buildServer({ version: '1', health: source });
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'unavailable', store: 'postgres' });
    expect(response.json().error).toMatch(/^store error: /);
    await app.close();
  });

  it('answers 503 when the store does not answer in time', async () => {
    const hanging: HealthSource = {
      store: 'postgres',
      pingStore: () => new Promise(() => {}),
      scheduler: () => ({ running: true, lastHeartbeat: null }),
    };
    const app = await buildServer({ version: '1', health: hanging, storeTimeoutMs: 20 });
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toBe('store did not answer within 20 ms');
    await app.close();
  });

  it('is served over HTTP by startHttpServer', async () => {
    const http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      version: '1',
      health: healthSource(testStore.store, null),
    });
    const response = await fetch(`${http.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', store: 'pglite' });
    await http.close();
  });
});
