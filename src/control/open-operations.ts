/**
 * How a CLI command reaches the store's operations (see
 * `docs/adr/0005-cli-and-embedded-store-access.md`):
 *
 * 1. `databaseUrl` set (PostgreSQL, which many processes may share): the store itself.
 * 2. Otherwise, when a live process holds the embedded store's lock and answers on the
 *    control socket: calls go over the socket to that process.
 * 3. Otherwise: the embedded store itself, holding the store lock for the command's
 *    duration.
 *
 * A holder that is alive but not (yet) answering — a server still starting, another
 * short command — is waited for up to `waitMs`, then refused with `StoreLockedError`.
 *
 * `openStorePath` picks the path for any set of operations; `openOperations` uses it for
 * `Operations` (a runtime of its own without scheduler when direct), and
 * `openDataOperations` (`src/data/open-data-operations.ts`) for the dataset,
 * connection and quality operations.
 */
import type { Logger } from 'pino';
import type { Operations } from '../ops/operations.ts';
import { type ControlClient, connectControl } from './client.ts';
import { acquireLock, lockPath, readLock, StoreLockedError } from './lock.ts';
import { socketPath } from './protocol.ts';

/** Where the store is reached from. */
export interface StorePathOptions {
  /** Home folder (store, logs, lock, control socket). */
  home: string;
  /** PostgreSQL URL; unset means the embedded store in `<home>/db`. */
  databaseUrl?: string | undefined;
  /** How long to wait for a busy store to become reachable (default 15 000 ms). */
  waitMs?: number;
  /** Command line named in the lock while this command holds it (default `updraft`). */
  command?: string;
}

export interface OpenOperationsOptions extends StorePathOptions {
  /** Pipelines folder (for a runtime of its own). */
  pipelinesDir: string;
  log?: Logger;
}

/** Where the operations run. */
export type OperationsVia = 'postgres' | 'socket' | 'embedded';

/** Operations of some kind, reached by one of the paths. */
export interface StoreHandle<T> {
  value: T;
  via: OperationsVia;
  /** For `socket`: the pid of the process serving it. */
  serverPid: number | null;
  /** Releases the connection or the store (and the store lock). */
  close(): Promise<void>;
}

/** How to get `T` on each path. */
export interface StorePaths<T> {
  /**
   * Opens the store itself: on PostgreSQL, or on the embedded store while this command
   * holds its lock (taken before, released after `close`).
   */
  direct(via: 'postgres' | 'embedded'): Promise<{ value: T; close(): Promise<void> }>;
  /** Takes `T` from a client connected to the control socket of the store's holder. */
  socket(client: ControlClient): T;
}

export interface OperationsHandle {
  ops: Operations;
  via: OperationsVia;
  /** For `socket`: the pid of the process serving it. */
  serverPid: number | null;
  /** Releases the connection or the runtime (and the store lock). */
  close(): Promise<void>;
}

const POLL_MS = 100;

/** Opens the cheapest working path to `Operations` for a command; see the module doc. */
export async function openOperations(options: OpenOperationsOptions): Promise<OperationsHandle> {
  const handle = await openStorePath(options, {
    socket: (client) => client.ops,
    direct: async () => {
      const { startRuntime } = await import('../runtime.ts');
      const runtime = await startRuntime({
        home: options.home,
        pipelinesDir: options.pipelinesDir,
        databaseUrl: options.databaseUrl,
        log: options.log,
        scheduler: false,
      });
      return { value: runtime.ops, close: () => runtime.stop() };
    },
  });
  return { ops: handle.value, via: handle.via, serverPid: handle.serverPid, close: handle.close };
}

/** Opens the cheapest working path to the store for a command; see the module doc. */
export async function openStorePath<T>(
  options: StorePathOptions,
  paths: StorePaths<T>,
): Promise<StoreHandle<T>> {
  if (options.databaseUrl) return direct(options, paths, 'postgres');
  const deadline = Date.now() + (options.waitMs ?? 15_000);
  for (;;) {
    const lock = readLock(options.home);
    if (!lock?.alive) {
      try {
        return await direct(options, paths, 'embedded');
      } catch (error) {
        // Another process took the lock between our look and our grab: look again.
        if (error instanceof StoreLockedError && Date.now() < deadline) continue;
        throw error;
      }
    }
    try {
      const client = await connectControl(socketPath(options.home));
      return {
        value: paths.socket(client),
        via: 'socket',
        serverPid: client.server.pid,
        close: async () => client.close(),
      };
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new StoreLockedError(
          lockPath(options.home),
          lock.holder,
          `it does not answer on ${socketPath(options.home)} ` + `(${(error as Error).message})`,
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function direct<T>(
  options: StorePathOptions,
  paths: StorePaths<T>,
  via: 'postgres' | 'embedded',
): Promise<StoreHandle<T>> {
  const lock =
    via === 'embedded'
      ? acquireLock(options.home, { purpose: 'command', command: options.command })
      : null;
  try {
    const opened = await paths.direct(via);
    return {
      value: opened.value,
      via,
      serverPid: null,
      close: async () => {
        try {
          await opened.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    lock?.release();
    throw error;
  }
}
