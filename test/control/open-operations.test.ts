/**
 * `openOperations` picks the path to Operations: the control socket of a live server,
 * a runtime of its own (embedded store, under the lock; or PostgreSQL), or a clear
 * refusal when the store is held by a process that does not answer.
 * The embedded-store cases start a runtime on a fresh PGlite store: 120 s under load.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, readLock, StoreLockedError } from '../../src/control/lock.ts';
import { openOperations } from '../../src/control/open-operations.ts';
import { socketPath } from '../../src/control/protocol.ts';
import { startControlServer } from '../../src/control/server.ts';
import { systemClock } from '../../src/core/clock.ts';
import { StoreOperations } from '../../src/ops/store-operations.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const postgres = STORE_BACKENDS.find((b) => b.name === 'postgres');

import { holdLockInChild, killHard } from './helpers.ts';

let home: string;
let pipelinesDir: string;
let child: ChildProcess | null = null;

beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'updraft-open-'));
  pipelinesDir = path.join(home, 'pipelines');
  fs.mkdirSync(pipelinesDir);
});

afterEach(async () => {
  if (child) await killHard(child);
  child = null;
  fs.rmSync(home, { recursive: true, force: true });
});

describe('openOperations', () => {
  it('goes through the control socket of the live process holding the store', async () => {
    const testStore = await STORE_BACKENDS.find((b) => b.name === 'pglite')!.open();
    const lock = acquireLock(home, { purpose: 'server', command: 'updraft standalone' });
    const server = await startControlServer({
      socketPath: socketPath(home),
      ops: new StoreOperations(testStore.store, systemClock),
      version: '1',
    });
    try {
      const handle = await openOperations({ home, pipelinesDir });
      expect(handle.via).toBe('socket');
      expect(handle.serverPid).toBe(process.pid);
      expect(await handle.ops.listDags()).toEqual([]);
      await handle.close();
      // The command took no lock of its own: the server's is untouched.
      expect(readLock(home)?.holder.command).toBe('updraft standalone');
    } finally {
      await server.close();
      lock.release();
      await testStore.close();
    }
  });

  it('refuses, naming the holder, when the live holder does not answer', async () => {
    child = await holdLockInChild(home);
    const error = await openOperations({ home, pipelinesDir, waitMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreLockedError);
    expect((error as Error).message).toContain(`pid ${child.pid}`);
    expect((error as Error).message).toContain('does not answer on');
  });

  it('opens the embedded store itself, under the lock, when no process holds it', async () => {
    const handle = await openOperations({ home, pipelinesDir, command: 'updraft dags list' });
    try {
      expect(handle.via).toBe('embedded');
      expect(readLock(home)?.holder).toMatchObject({
        pid: process.pid,
        command: 'updraft dags list',
      });
      expect(await handle.ops.listDags()).toEqual([]);
    } finally {
      await handle.close();
    }
    expect(readLock(home)).toBeNull();
  }, 120_000);

  it('takes over the lock of a holder that died', async () => {
    child = await holdLockInChild(home);
    await killHard(child);
    const handle = await openOperations({ home, pipelinesDir });
    expect(handle.via).toBe('embedded');
    await handle.close();
  }, 120_000);

  it.skipIf(!postgres)('opens a runtime of its own on PostgreSQL, without any lock', async () => {
    const testStore = await postgres!.open();
    await testStore.releaseStore();
    const handle = await openOperations({ home, pipelinesDir, databaseUrl: testStore.databaseUrl });
    try {
      expect(handle.via).toBe('postgres');
      expect(readLock(home)).toBeNull();
      expect(await handle.ops.listPools()).toEqual([
        expect.objectContaining({ name: 'default_pool' }),
      ]);
    } finally {
      await handle.close();
      await testStore.close();
    }
  });
});
