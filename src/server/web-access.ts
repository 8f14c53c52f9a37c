/**
 * What `updraft standalone` needs to serve the API and UI: the API context over its
 * runtime, and the first admin (created with a random password when the store has no
 * user), described in one line for the start-up banner.
 */
import { createAuth } from '../auth/auth.ts';
import { ensureInitialAdmin } from '../auth/initial-admin.ts';
import { systemClock } from '../core/clock.ts';
import { createDatasetOperations } from '../data/dataset-operations.ts';
import { createQualityOperations } from '../quality/quality-operations.ts';
import type { Runtime } from '../runtime.ts';
import type { ApiContext } from './api-context.ts';

export async function webAccess(
  runtime: Pick<Runtime, 'ops' | 'store'>,
  home: string,
  version: string,
): Promise<{ api: ApiContext; login: string | null }> {
  const auth = createAuth(runtime.store, systemClock);
  const admin = await ensureInitialAdmin(auth, home);
  const login = admin.created
    ? `user ${admin.username}, password ${admin.password}  (shown once; also in ${admin.file})`
    : admin.file
      ? `first admin password in ${admin.file}`
      : null;
  const datasets = createDatasetOperations(runtime.store, home);
  const quality = createQualityOperations(runtime.store, home);
  return {
    api: { ops: runtime.ops, store: runtime.store, auth, datasets, quality, version },
    login,
  };
}
