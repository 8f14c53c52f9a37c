import { sql } from 'kysely';
import type { SchedulerStatus } from '../scheduler/scheduler.ts';
import type { Store } from '../store/store.ts';
import type { ExecutorSlots, HealthSource } from './routes/health.ts';

/**
 * Health facts of a process: its store (pinged with `select 1`), its scheduler and its
 * executor's slots (null when the process runs none).
 */
export function healthSource(
  store: Store,
  scheduler: { getStatus(): SchedulerStatus } | null,
  executor: (() => ExecutorSlots | null) | null = null,
): HealthSource {
  return {
    store: store.kind,
    executor: () => executor?.() ?? null,
    async pingStore() {
      await sql`select 1`.execute(store.db);
    },
    scheduler() {
      const status = scheduler?.getStatus();
      return {
        running: status?.running ?? false,
        lastHeartbeat:
          status?.lastTickAt === null || status?.lastTickAt === undefined
            ? null
            : new Date(status.lastTickAt).toISOString(),
      };
    },
  };
}
