/**
 * How a CLI command reaches `DatasetOperations` (the same paths as `openOperations`,
 * ADR 5): with `UPDRAFT_DATABASE_URL`, the PostgreSQL server directly; on the embedded
 * store, by taking its lock for the command's duration. While `updraft standalone` holds
 * the embedded store, its control socket does not serve dataset commands yet: the
 * command says so and what to do.
 */
import { UpdraftError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { createDatasetOperations, type DatasetOperations } from './dataset-operations.ts';

export interface DatasetOperationsHandle {
  ops: DatasetOperations;
  /** The open store (for other subsystems' operations on it, e.g. quality results). */
  store: Store;
  close(): Promise<void>;
}

/** Opens the store for dataset commands; see the module doc. */
export async function openDatasetOperations(options: {
  home: string;
  databaseUrl: string | undefined;
  command: string;
}): Promise<DatasetOperationsHandle> {
  const { openStore } = await import('../store/store.ts');
  const { acquireLock, readLock } = await import('../control/lock.ts');
  let lock: { release(): void } | null = null;
  if (options.databaseUrl === undefined) {
    const holder = readLock(options.home);
    if (holder?.alive) {
      throw new UpdraftError(
        'store_locked',
        `'${holder.holder.command}' (pid ${holder.holder.pid}) holds the embedded store in ${options.home}: ` +
          'dataset and connection commands need the store itself; stop it, or run Updraft on PostgreSQL (UPDRAFT_DATABASE_URL)',
      );
    }
    lock = acquireLock(options.home, { purpose: 'command', command: options.command });
  }
  try {
    const store = await openStore({ databaseUrl: options.databaseUrl, home: options.home });
    await store.migrate();
    return {
      ops: createDatasetOperations(store, options.home),
      store,
      close: async () => {
        try {
          await store.close();
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
