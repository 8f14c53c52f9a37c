import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, lockPath, readLock, StoreLockedError } from '../../src/control/lock.ts';
import { holdLockInChild, killHard } from './helpers.ts';

let home: string;
let child: ChildProcess | null = null;

beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'updraft-lock-'));
});

afterEach(async () => {
  if (child) await killHard(child);
  child = null;
  fs.rmSync(home, { recursive: true, force: true });
});

describe('store lock', () => {
  it('is taken, named after this process, and removed on release', () => {
    const lock = acquireLock(home, { command: 'updraft dags list' });
    const seen = readLock(home);
    expect(seen?.alive).toBe(true);
    expect(seen?.holder).toMatchObject({ pid: process.pid, command: 'updraft dags list' });
    expect(fs.statSync(lockPath(home)).mode & 0o777).toBe(0o600);
    lock.release();
    expect(readLock(home)).toBeNull();
    lock.release();
  });

  it('refuses while another live process holds it, naming that process', async () => {
    child = await holdLockInChild(home);
    let error: unknown;
    try {
      acquireLock(home);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreLockedError);
    const locked = error as StoreLockedError;
    expect(locked.holder.pid).toBe(child.pid);
    expect(locked.message).toContain(`pid ${child.pid}`);
    expect(locked.message).toContain("'updraft standalone'");
    expect(locked.message).toContain('UPDRAFT_DATABASE_URL');
    expect(readLock(home)?.alive).toBe(true);
  });

  it('takes over the lock of a process that died without releasing it', async () => {
    child = await holdLockInChild(home);
    const deadPid = child.pid;
    await killHard(child);
    expect(readLock(home)).toMatchObject({ alive: false, holder: { pid: deadPid } });

    const lock = acquireLock(home);
    expect(readLock(home)?.holder.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over an unreadable lock file', () => {
    fs.writeFileSync(lockPath(home), 'not json');
    expect(readLock(home)?.alive).toBe(false);
    const lock = acquireLock(home);
    expect(readLock(home)?.holder.pid).toBe(process.pid);
    lock.release();
  });

  it('does not remove a lock that another process took over meanwhile', () => {
    const lock = acquireLock(home);
    const other = {
      pid: 999_999,
      hostname: os.hostname(),
      purpose: 'command',
      command: 'x',
      since: 'y',
    };
    fs.writeFileSync(lockPath(home), JSON.stringify(other));
    lock.release();
    expect(readLock(home)?.holder.pid).toBe(999_999);
  });

  it('is refused twice within one process', () => {
    const lock = acquireLock(home);
    expect(() => acquireLock(home)).toThrow(StoreLockedError);
    lock.release();
  });
});
