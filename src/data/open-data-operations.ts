/**
 * How a CLI command reaches `DatasetOperations` (connections included) and
 * `QualityOperations`: by the same paths as `openOperations` (ADR 5, ADR 19) — with
 * `UPDRAFT_DATABASE_URL`, the PostgreSQL server directly; on the embedded store held by
 * a live `updraft standalone` or `scheduler`, over its control socket; on a free
 * embedded store, by taking its lock for the command's duration.
 */
import { openStorePath, type StoreHandle } from '../control/open-operations.ts';
import type { QualityOperations } from '../quality/quality-operations.ts';
import type { DatasetOperations } from './dataset-operations.ts';

/** The data layer's operations, wherever they run. */
export interface DataOperations {
  datasets: DatasetOperations;
  quality: QualityOperations;
}

/** Opens the cheapest working path to the data layer's operations; see the module doc. */
export async function openDataOperations(options: {
  home: string;
  databaseUrl: string | undefined;
  command: string;
  /** How long to wait for a busy store to become reachable (default 15 000 ms). */
  waitMs?: number;
}): Promise<StoreHandle<DataOperations>> {
  return openStorePath<DataOperations>(options, {
    socket: (client) => ({ datasets: client.datasets, quality: client.quality }),
    direct: async () => {
      const { openStore } = await import('../store/store.ts');
      const { createDatasetOperations } = await import('./dataset-operations.ts');
      const { createQualityOperations } = await import('../quality/quality-operations.ts');
      const store = await openStore({ databaseUrl: options.databaseUrl, home: options.home });
      try {
        await store.migrate();
      } catch (error) {
        await store.close();
        throw error;
      }
      return {
        value: {
          datasets: createDatasetOperations(store, options.home),
          quality: createQualityOperations(store, options.home),
        },
        close: () => store.close(),
      };
    },
  });
}
