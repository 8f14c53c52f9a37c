/**
 * The control socket against the real StoreOperations on the embedded store: the same
 * answers and the same error classes as a direct call, and refusals of what is not
 * allowed (unknown methods, oversized requests).
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlClient, connectControl } from '../../src/control/client.ts';
import { MAX_REQUEST_BYTES, socketPath } from '../../src/control/protocol.ts';
import { type ControlServer, startControlServer } from '../../src/control/server.ts';
import { systemClock } from '../../src/core/clock.ts';
import { ConflictError, NotFoundError, ParamsError } from '../../src/core/errors.ts';
import type { Operations } from '../../src/ops/operations.ts';
import { StoreOperations } from '../../src/ops/store-operations.ts';
import { syncDagFile } from '../../src/store/queries/dags.ts';
import { dagSpec, loadedFile } from '../support/specs.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite')!;

let testStore: TestStore;
let ops: StoreOperations;
let server: ControlServer;
let client: ControlClient;

beforeAll(async () => {
  testStore = await pglite.open();
  const spec = dagSpec({
    dagId: 'etl',
    tags: ['demo'],
    params: {
      type: 'object',
      properties: { limit: { type: 'integer', minimum: 1, default: 10 } },
    },
    tasks: [{ taskId: 'extract' }, { taskId: 'load', upstream: ['extract'] }],
  });
  await syncDagFile(testStore.store.db, loadedFile('/pipelines/etl.ts', spec), new Date(), false);
  ops = new StoreOperations(testStore.store, systemClock);
  server = await startControlServer({
    socketPath: socketPath(testStore.home),
    ops,
    version: '9.9.9',
  });
  client = await connectControl(server.socketPath);
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await testStore?.close();
});

/** Sends raw lines and collects the parsed answers until the server closes or `count` arrive. */
async function raw(lines: string, count: number): Promise<{ answers: unknown[]; closed: boolean }> {
  const socket = net.createConnection(server.socketPath);
  const answers: unknown[] = [];
  let buffer = '';
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) answers.push(JSON.parse(part));
      if (answers.length >= count) {
        socket.destroy();
        resolve({ answers, closed: false });
      }
    });
    socket.on('close', () => resolve({ answers, closed: true }));
    socket.write(lines);
  });
}

describe('control socket', () => {
  it('is private to its owner', () => {
    expect(fs.statSync(server.socketPath).mode & 0o777).toBe(0o600);
  });

  it('greets with the server pid and version', () => {
    expect(client.server).toEqual({ pid: process.pid, version: '9.9.9' });
  });

  it('answers exactly what a direct call answers', async () => {
    expect(await client.ops.listDags({ tag: 'demo' })).toEqual(await ops.listDags({ tag: 'demo' }));
    const run = await client.ops.triggerRun('etl', { runId: 'r1', params: { limit: 3 } });
    expect(run).toMatchObject({ dagId: 'etl', runId: 'r1', params: { limit: 3 } });
    expect(await client.ops.getRun('etl', 'r1')).toEqual(await ops.getRun('etl', 'r1'));
    await client.ops.setPaused('etl', true);
    expect((await ops.getDag('etl')).isPaused).toBe(true);
  });

  it('re-raises NotFoundError with the message of the server', async () => {
    const direct = await ops.getDag('nope').catch((e: unknown) => e);
    const remote = await client.ops.getDag('nope').catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(NotFoundError);
    expect(remote).toBeInstanceOf(NotFoundError);
    expect((remote as NotFoundError).message).toBe((direct as NotFoundError).message);
    expect((remote as NotFoundError).code).toBe('not_found');
  });

  it('re-raises ParamsError with the field at fault', async () => {
    const error = await client.ops
      .triggerRun('etl', { params: { limit: 'many' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParamsError);
    expect((error as ParamsError).field).toContain('limit');
    expect((error as ParamsError).dagId).toBe('etl');
    expect((error as ParamsError).message).toContain("dag 'etl'");
  });

  it('re-raises ConflictError', async () => {
    await client.ops.triggerRun('etl', { runId: 'twice' });
    const error = await client.ops.triggerRun('etl', { runId: 'twice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).message).toContain('twice');
  });

  it('serves concurrent calls on one connection, each to its caller', async () => {
    const [dags, pools, missing] = await Promise.all([
      client.ops.listDags(),
      client.ops.listPools(),
      client.ops.getRun('etl', 'no-such-run').catch((e: unknown) => e),
    ]);
    expect(dags.map((d) => d.dagId)).toEqual(['etl']);
    expect(Array.isArray(pools)).toBe(true);
    expect(missing).toBeInstanceOf(NotFoundError);
  });

  it('refuses methods that are not Operations, including inherited names', async () => {
    const request = (id: number, method: string) => `${JSON.stringify({ id, method, args: [] })}\n`;
    const { answers } = await raw(
      request(1, 'constructor') + request(2, 'toString') + request(3, 'store') + request(4, 'now'),
      4,
    );
    for (const answer of answers) {
      expect(answer).toMatchObject({ error: { code: 'unknown_method' } });
    }
  });

  it('refuses malformed requests and too many arguments, keeping the connection', async () => {
    const { answers } = await raw(
      'not json\n{"id": 5, "method": 3}\n' +
        `${JSON.stringify({ id: 6, method: 'getDag', args: ['etl', 'x', 'y'] })}\n` +
        `${JSON.stringify({ id: 7, method: 'getDag', args: ['etl'] })}\n`,
      4,
    );
    expect(answers[0]).toMatchObject({ id: 0, error: { code: 'bad_request' } });
    expect(answers[1]).toMatchObject({ id: 5, error: { code: 'bad_request' } });
    expect(answers[2]).toMatchObject({ id: 6, error: { code: 'bad_request' } });
    expect(answers[3]).toMatchObject({ id: 7, result: { dagId: 'etl' } });
  });

  it('refuses a request over 1 MiB and closes that connection only', async () => {
    const huge = `{"id": 1, "method": "getDag", "args": ["${'x'.repeat(MAX_REQUEST_BYTES)}"]}\n`;
    const { answers, closed } = await raw(huge, 2);
    expect(closed).toBe(true);
    expect(answers).toEqual([
      { id: 0, error: expect.objectContaining({ code: 'request_too_large' }) },
    ]);
    expect((await client.ops.getDag('etl')).dagId).toBe('etl');
  });

  it('fails calls made after close', async () => {
    const other = await connectControl(server.socketPath);
    other.close();
    await expect(other.ops.listDags()).rejects.toThrow(/is closed/);
  });

  it('fails calls in flight when the server goes away', async () => {
    const home = fs.mkdtempSync('/tmp/updraft-sock-');
    // Operations whose listPools never answers: only that method is called.
    const slow = { listPools: () => new Promise<never>(() => {}) } as unknown as Operations;
    const s = await startControlServer({ socketPath: socketPath(home), ops: slow, version: '1' });
    const c = await connectControl(s.socketPath);
    const inFlight = c.ops.listPools();
    await s.close();
    await expect(inFlight).rejects.toThrow(/lost the connection/);
    fs.rmSync(home, { recursive: true, force: true });
  });
});

describe('control server lifecycle', () => {
  it('replaces a stale socket file and removes its socket when closed', async () => {
    const home = fs.mkdtempSync('/tmp/updraft-sock-');
    const path = socketPath(home);
    fs.writeFileSync(path, 'left by a crashed process');
    const s = await startControlServer({ socketPath: path, ops, version: '1' });
    const c = await connectControl(path);
    expect(await c.ops.listDags()).toHaveLength(1);
    c.close();
    await s.close();
    expect(fs.existsSync(path)).toBe(false);
    await expect(connectControl(path)).rejects.toThrow(/ENOENT/);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('refuses a socket path too long for Unix sockets, naming --home', async () => {
    const path = `/tmp/${'d'.repeat(120)}/control.sock`;
    await expect(startControlServer({ socketPath: path, ops, version: '1' })).rejects.toThrow(
      /--home/,
    );
  });
});
