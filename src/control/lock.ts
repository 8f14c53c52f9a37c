/**
 * The store lock: `<home>/updraft.lock`, held by the one process that has the embedded
 * (PGlite) store open. PGlite keeps its database in files that only one process may
 * open, so every process that opens it takes this lock first (see
 * `docs/adr/0005-cli-and-embedded-store-access.md`).
 *
 * - The file holds JSON: the holder's pid, host, purpose and start time.
 * - It is created atomically (written to a private file, then hard-linked into place,
 *   which fails if a lock exists), so no reader ever sees a half-written lock.
 * - A lock whose pid is dead (on this host) is stale and taken over; a live one is
 *   refused with `StoreLockedError`, which names the holder.
 * - `release()` removes the file only while it still names this process; the lock is
 *   also removed when the process exits normally.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UpdraftError } from '../core/errors.ts';

/** File name of the lock inside the home folder. */
export const LOCK_FILE = 'updraft.lock';

/**
 * Why a process holds the store: `server` (`updraft standalone` / `updraft scheduler`,
 * which also answer on the control socket) or `command` (a CLI command for its duration).
 */
export type LockPurpose = 'server' | 'command';

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  hostname: string;
  purpose: LockPurpose;
  /** The command line that took the lock, for messages (`updraft standalone`). */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** The embedded store is held by another live process. */
export class StoreLockedError extends UpdraftError {
  readonly holder: LockHolder;
  readonly lockPath: string;
  constructor(lockPath: string, holder: LockHolder, detail?: string) {
    super(
      'store_locked',
      `the embedded store in ${path.dirname(lockPath)} is in use by '${holder.command}' ` +
        `(pid ${holder.pid} on ${holder.hostname}, since ${holder.since})` +
        (detail ? `; ${detail}` : '') +
        `. Stop that process, or set UPDRAFT_DATABASE_URL to use a PostgreSQL server ` +
        `(if no such process exists, delete ${lockPath})`,
    );
    this.holder = holder;
    this.lockPath = lockPath;
  }
}

/** A held lock. */
export interface StoreLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it still names this process. Idempotent. */
  release(): void;
}

/** Path of the lock file in a home folder. */
export function lockPath(home: string): string {
  return path.join(home, LOCK_FILE);
}

/**
 * Reads the lock of a home folder: its holder and whether that holder is alive, or
 * null when there is no lock. An unreadable lock file counts as a stale one.
 */
export function readLock(home: string): { holder: LockHolder; alive: boolean } | null {
  const holder = readHolder(lockPath(home));
  if (holder === undefined) return null;
  if (holder === null) return { holder: unknownHolder(), alive: false };
  return { holder, alive: isAlive(holder) };
}

/**
 * Takes the store lock of `home` (creating the folder if needed).
 * Throws `StoreLockedError` when a live process holds it; takes over a stale one.
 *
 * @param options.purpose why the lock is held (default `command`)
 * @param options.command the command line to name in messages (default `updraft`)
 */
export function acquireLock(
  home: string,
  options: { purpose?: LockPurpose; command?: string } = {},
): StoreLock {
  fs.mkdirSync(home, { recursive: true });
  const file = lockPath(home);
  const holder: LockHolder = {
    pid: process.pid,
    hostname: os.hostname(),
    purpose: options.purpose ?? 'command',
    command: options.command ?? 'updraft',
    since: new Date().toISOString(),
  };
  const draft = `${file}.${process.pid}.${Date.now()}.new`;
  fs.writeFileSync(draft, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  try {
    // Few rounds suffice: each one either links, refuses, or removes one stale lock.
    for (let round = 0; round < 5; round++) {
      try {
        fs.linkSync(draft, file);
        return heldLock(file, holder);
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
      const current = readHolder(file);
      if (current === undefined) continue;
      if (current !== null && isAlive(current)) throw new StoreLockedError(file, current);
      removeStale(file, current);
    }
    throw new UpdraftError('store_locked', `could not take ${file}: it keeps changing hands`);
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

function heldLock(file: string, holder: LockHolder): StoreLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const current = readHolder(file);
    if (current && current.pid === holder.pid && current.since === holder.since) {
      fs.rmSync(file, { force: true });
    }
  };
  process.on('exit', release);
  return { path: file, holder, release };
}

/**
 * Removes a stale lock without removing a fresh one that replaced it meanwhile: the file
 * is moved aside first, then checked; a lock that turns out not to be the stale one is
 * put back (unless yet another lock appeared, which then wins).
 */
function removeStale(file: string, stale: LockHolder | null): void {
  const aside = `${file}.${process.pid}.${Date.now()}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  const moved = readHolder(aside);
  const same =
    moved === null ||
    (stale !== null &&
      moved !== undefined &&
      moved.pid === stale.pid &&
      moved.since === stale.since);
  if (!same) {
    try {
      fs.linkSync(aside, file);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
  }
  fs.rmSync(aside, { force: true });
}

/** The holder named by a lock file; null when unreadable, undefined when absent. */
function readHolder(file: string): LockHolder | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value) || typeof value.pid !== 'number' || !Number.isInteger(value.pid)) {
      return null;
    }
    return {
      pid: value.pid,
      hostname: typeof value.hostname === 'string' ? value.hostname : os.hostname(),
      purpose: value.purpose === 'server' ? 'server' : 'command',
      command: typeof value.command === 'string' ? value.command : 'updraft',
      since: typeof value.since === 'string' ? value.since : 'unknown',
    };
  } catch {
    return null;
  }
}

/** A process on another host cannot be checked, so it counts as alive. */
function isAlive(holder: LockHolder): boolean {
  if (holder.hostname !== os.hostname()) return true;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return !isErrno(error, 'ESRCH');
  }
}

function unknownHolder(): LockHolder {
  return { pid: 0, hostname: os.hostname(), purpose: 'command', command: 'unknown', since: '' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
