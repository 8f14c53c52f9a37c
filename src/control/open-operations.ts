/**
 * How a CLI command reaches `Operations` (see
 * `docs/adr/0005-cli-and-embedded-store-access.md`):
 *
 * 1. `databaseUrl` set (PostgreSQL, which many processes may share): a runtime of its
 *    own, without scheduler.
 * 2. Otherwise, when a live process holds the embedded store's lock and answers on the
 *    control socket: calls go over the socket to that process.
 * 3. Otherwise: a runtime of its own on the embedded store, holding the store lock for
 *    the command's duration.
 *
 * A holder that is alive but not (yet) answering — a server still starting, another
 * short command — is waited for up to `waitMs`, then refused with `StoreLockedError`.
 */
import type { Logger } from 'pino';
import type { Operations } from '../ops/operations.ts';
import { connectControl } from './client.ts';
import { acquireLock, lockPath, readLock, StoreLockedError } from './lock.ts';
import { socketPath } from './protocol.ts';

export interface OpenOperationsOptions {
  /** Home folder (store, logs, lock, control socket). */
  home: string;
  /** Pipelines folder (for a runtime of its own). */
  pipelinesDir: string;
  /** PostgreSQL URL; unset means the embedded store in `<home>/db`. */
  databaseUrl?: string;
  /** How long to wait for a busy store to become reachable (default 15 000 ms). */
  waitMs?: number;
  /** Command line named in the lock while this command holds it (default `updraft`). */
  command?: string;
  log?: Logger;
}

/** Where the operations run. */
export type OperationsVia = 'postgres' | 'socket' | 'embedded';

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
  if (options.databaseUrl) return directRuntime(options, 'postgres');
  const deadline = Date.now() + (options.waitMs ?? 15_000);
  for (;;) {
    const lock = readLock(options.home);
    if (!lock?.alive) {
      try {
        return await directRuntime(options, 'embedded');
      } catch (error) {
        // Another process took the lock between our look and our grab: look again.
        if (error instanceof StoreLockedError && Date.now() < deadline) continue;
        throw error;
      }
    }
    try {
      const client = await connectControl(socketPath(options.home));
      return {
        ops: client.ops,
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

async function directRuntime(
  options: OpenOperationsOptions,
  via: 'postgres' | 'embedded',
): Promise<OperationsHandle> {
  const lock =
    via === 'embedded'
      ? acquireLock(options.home, { purpose: 'command', command: options.command })
      : null;
  try {
    const { startRuntime } = await import('../runtime.ts');
    const runtime = await startRuntime({
      home: options.home,
      pipelinesDir: options.pipelinesDir,
      databaseUrl: options.databaseUrl,
      log: options.log,
      scheduler: false,
    });
    return {
      ops: runtime.ops,
      via,
      serverPid: null,
      close: async () => {
        try {
          await runtime.stop();
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
