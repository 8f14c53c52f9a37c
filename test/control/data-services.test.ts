/**
 * The control socket serving the dataset (connections included) and quality operations,
 * as `updraft standalone` serves them (`socketServices`), over a real embedded store
 * with real datasets: the same answers and error classes as direct calls, changes made
 * as the socket's owner and audited, the arity tables refusing what they do not list,
 * and `openDataOperations` picking the socket while a live process holds the store.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auth, createAuth } from '../../src/auth/auth.ts';
import { localUserName } from '../../src/auth/local-actor.ts';
import { type ControlClient, connectControl } from '../../src/control/client.ts';
import { acquireLock, type StoreLock, StoreLockedError } from '../../src/control/lock.ts';
import {
  type ControlServices,
  DATASET_OPERATION_ARITY,
  QUALITY_OPERATION_ARITY,
  resolveMethod,
  socketPath,
} from '../../src/control/protocol.ts';
import { type ControlServer, startControlServer } from '../../src/control/server.ts';
import { socketServices } from '../../src/control/socket-services.ts';
import { systemClock } from '../../src/core/clock.ts';
import { NotFoundError, UpdraftError } from '../../src/core/errors.ts';
import { openDataOperations } from '../../src/data/open-data-operations.ts';
import { StoreOperations } from '../../src/ops/store-operations.ts';
import { StoreQualityOperations } from '../../src/quality/quality-operations.ts';
import { type DataHarness, openDataHarness } from '../data/support.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { holdLockInChild, killHard } from './helpers.ts';

const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite')!;

let h: DataHarness;
let direct: ControlServices;
let auth: Auth;
let lock: StoreLock;
let server: ControlServer;
let client: ControlClient;

beforeAll(async () => {
  h = await openDataHarness(pglite);
  const run = { runPk: await h.createRun('seed', 's1'), dagId: 'seed', runId: 's1' };
  for (let i = 1; i <= 2; i++) {
    await h.runTask(run, {
      taskId: 'w',
      operator: 'duckdb',
      config: { query: `select ${i} as gen`, output: 'sales' },
    });
  }
  direct = {
    ops: new StoreOperations(h.store, systemClock),
    datasets: h.ops,
    quality: new StoreQualityOperations(h.store, h.storage),
  };
  auth = createAuth(h.store, systemClock);
  // As `updraft standalone` does: the lock, then the socket with the audited services.
  lock = acquireLock(h.home, { purpose: 'server', command: 'updraft standalone' });
  server = await startControlServer({
    socketPath: socketPath(h.home),
    ...socketServices(direct, auth.audit),
    version: '9.9.9',
  });
  client = await connectControl(server.socketPath);
}, 120_000);

afterAll(async () => {
  client?.close();
  await server?.close();
  lock?.release();
  await h?.close();
});

/** Sends one raw request line and returns the parsed answer. */
async function rawCall(method: string, args: unknown[]): Promise<unknown> {
  const socket = net.createConnection(server.socketPath);
  return new Promise((resolve, reject) => {
    let buffer = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      if (!buffer.includes('\n')) return;
      socket.destroy();
      resolve(JSON.parse(buffer.slice(0, buffer.indexOf('\n'))));
    });
    socket.write(`${JSON.stringify({ id: 1, method, args })}\n`);
  });
}

describe('dataset operations over the control socket', () => {
  it('answer exactly what direct calls answer', async () => {
    expect(await client.datasets.listDatasets()).toEqual(await direct.datasets.listDatasets());
    expect(await client.datasets.listVersions('sales', { limit: 1 })).toEqual(
      await direct.datasets.listVersions('sales', { limit: 1 }),
    );
    expect(await client.datasets.showVersion('sales@v1')).toEqual(
      await direct.datasets.showVersion('sales@v1'),
    );
    expect(await client.datasets.lineage('sales')).toEqual(await direct.datasets.lineage('sales'));
    expect(await client.datasets.etlRuns()).toEqual(await direct.datasets.etlRuns());
    expect(await client.quality.results('sales')).toEqual([]);
  });

  it('move aliases as the socket owner with the admin role, whatever actor is sent, audited', async () => {
    const move = await client.datasets.promote('sales', 1, 'prod', {
      actor: { name: 'mallory', role: 'viewer' },
      reason: 'first',
    });
    expect(move).toMatchObject({ fromVersion: null, toVersion: 1, actor: localUserName() });
    await client.datasets.promote('sales', 2, 'prod', { actor: { name: 'x', role: 'admin' } });
    const back = await client.datasets.rollback('sales', 'prod', {
      actor: { name: 'x', role: 'admin' },
      reason: 'oops',
    });
    expect(back).toMatchObject({ fromVersion: 2, toVersion: 1 });
    const history = await direct.datasets.aliasHistory('sales', 'prod');
    expect(history.map((e) => [e.action, e.actor, e.actorRole, e.reason])).toEqual([
      ['rollback', localUserName(), 'admin', 'oops'],
      ['promote', localUserName(), 'admin', null],
      ['promote', localUserName(), 'admin', 'first'],
    ]);
    const records = await auth.audit.list({ action: 'dataset.promote' });
    expect(records.map((r) => [r.username, r.via, r.target, r.ip, r.outcome])).toEqual([
      [localUserName(), 'cli', 'sales', 'control socket', 'ok'],
      [localUserName(), 'cli', 'sales', 'control socket', 'ok'],
    ]);
    expect(records[1]?.details).toEqual({ version: 1, alias: 'prod', reason: 'first' });
    // Reads are not audited.
    expect((await auth.audit.list()).map((r) => r.action)).not.toContain('dataset.list');
  });

  it('re-raise errors as the same classes, codes and messages', async () => {
    const directError = await direct.datasets.showVersion('sale').catch((e: unknown) => e);
    const remote = await client.datasets.showVersion('sale').catch((e: unknown) => e);
    expect(remote).toBeInstanceOf(NotFoundError);
    expect((remote as NotFoundError).message).toBe((directError as Error).message);
    expect((remote as NotFoundError).message).toContain("no dataset 'sale'");

    const badAlias = await client.datasets
      .promote('sales', 1, 'Bad Alias!', { actor: { name: 'x', role: 'admin' } })
      .catch((e: unknown) => e);
    expect(badAlias).toBeInstanceOf(UpdraftError);
    expect((badAlias as UpdraftError).code).toBe('dataset_alias_invalid');
    expect((badAlias as UpdraftError).message).toContain('Bad Alias!');
    const failed = await auth.audit.list({ action: 'dataset.promote' });
    expect(failed[0]?.outcome).toBe('dataset_alias_invalid');

    const noQuality = await client.quality.latestResults('sales').catch((e: unknown) => e);
    expect(noQuality).toBeInstanceOf(NotFoundError);
    expect((noQuality as Error).message).toContain("no quality results for dataset 'sales'");
  });

  it('store connections encrypted and never send or audit the secret', async () => {
    const saved = await client.datasets.putConnection(
      { name: 'wh', url: 'postgres://etl:hunter2@db:5432/x', description: 'warehouse' },
      { name: 'x', role: 'viewer' },
    );
    expect(saved).toMatchObject({ name: 'wh', url: 'postgres://etl:***@db:5432/x' });
    const listed = await client.datasets.listConnections();
    expect(listed).toEqual(await direct.datasets.listConnections());
    expect(JSON.stringify(listed)).not.toContain('hunter2');
    await client.datasets.deleteConnection('wh', { name: 'x', role: 'viewer' });
    expect(await client.datasets.listConnections()).toEqual([]);
    const records = await auth.audit.list();
    const connectionRecords = records.filter((r) => r.action.startsWith('connection.'));
    expect(connectionRecords.map((r) => [r.action, r.target, r.outcome])).toEqual([
      ['connection.delete', 'wh', 'ok'],
      ['connection.put', 'wh', 'ok'],
    ]);
    expect(JSON.stringify(records)).not.toContain('hunter2');
  });

  it('refuse methods their arity tables do not list, and too many arguments', async () => {
    for (const method of [
      'datasets.nope',
      'datasets.constructor',
      'datasets.toString',
      'quality.__proto__',
      'datasets.',
      'quality.listDags',
      'listDatasets',
    ]) {
      expect(resolveMethod(method)).toBeNull();
      expect(await rawCall(method, [])).toMatchObject({
        error: { code: 'unknown_method', message: `unknown control method '${method}'` },
      });
    }
    expect(await rawCall('datasets.showVersion', ['sales', 'extra'])).toMatchObject({
      error: {
        code: 'bad_request',
        message: 'datasets.showVersion takes at most 1 arguments, got 2',
      },
    });
    expect(await rawCall('quality.metrics', ['sales'])).toEqual({ id: 1, result: [] });
    expect(resolveMethod('datasets.promote')).toEqual({
      service: 'datasets',
      method: 'promote',
      arity: 4,
    });
    // The client offers every method of the tables, and only those.
    expect(Object.keys(client.datasets).sort()).toEqual(
      Object.keys(DATASET_OPERATION_ARITY).sort(),
    );
    expect(Object.keys(client.quality).sort()).toEqual(Object.keys(QUALITY_OPERATION_ARITY).sort());
  });

  it('answer unavailable from a server that does not serve them', async () => {
    const other = await startControlServer({
      socketPath: socketPath(`${h.home}/pipelines`),
      ops: direct.ops,
      version: '1',
    });
    const c = await connectControl(other.socketPath);
    try {
      const error = await c.datasets.listDatasets().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpdraftError);
      expect((error as UpdraftError).code).toBe('unavailable');
      expect((error as Error).message).toContain('does not serve datasets operations');
    } finally {
      c.close();
      await other.close();
    }
  });
});

describe('openDataOperations', () => {
  it('goes through the socket of the live process holding the embedded store', async () => {
    const handle = await openDataOperations({
      home: h.home,
      databaseUrl: undefined,
      command: 'updraft datasets list',
    });
    try {
      expect(handle.via).toBe('socket');
      expect(handle.serverPid).toBe(process.pid);
      expect(await handle.value.datasets.listDatasets()).toEqual(
        await direct.datasets.listDatasets(),
      );
      expect(await handle.value.quality.metrics('sales')).toEqual([]);
    } finally {
      await handle.close();
    }
  });

  it('refuses, naming the holder, when the holder has no socket', async () => {
    let child: ChildProcess | null = null;
    const home = `${h.home}/other-home`;
    try {
      child = await holdLockInChild(home);
      const error = await openDataOperations({
        home,
        databaseUrl: undefined,
        command: 'updraft datasets list',
        waitMs: 300,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreLockedError);
      expect((error as Error).message).toContain(`pid ${child.pid}`);
      expect((error as Error).message).toContain('does not answer on');
    } finally {
      if (child) await killHard(child);
    }
  }, 60_000);
});
